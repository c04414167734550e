"""What a chat template wraps around each message, learnt once per sequence of roles.

For a conversation whose roles are, say, (system, user, assistant), the template renders
``P0 + c0 + P1 + c1 + P2 + c2 + P3`` where the ``c`` are the contents and the ``P`` pieces do not
depend on them (``<|im_start|>user\\n`` ... for ChatML). The pieces are learnt by rendering
probe contents and checked with contents that start and end with whitespace, so a template that
trims or rewrites contents gets no layout.

With a layout, an example's token count is the pieces' tokens (fixed per role sequence) plus
each content's tokens on its own. That holds when every boundary falls between tokens, which
`Layout.plan` checks per example: a content must be followed by a special token (or the end),
and the pre-tokenizer must split the text before it exactly where it would split that text
alone. Contents whose boundaries do not qualify (one starting with whitespace after a newline,
say) get no plan, and the caller renders and tokenises the whole example instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import regex

from workers.ml.data.fast_bpe import GPT2_SPLIT
from workers.ml.data.schema import Messages

_SPLIT = regex.compile(GPT2_SPLIT)
_LOOKAHEAD = 16  # characters of a content that decide where the split before it falls
_VERDICTS = 65536  # cached boundary verdicts, a few MiB at most
# Longer conversations are rare and are counted by rendering: learning a layout renders the
# template twice for each new role sequence, and every length is a new sequence.
MAX_MESSAGES = 256
_MARKER = re.compile(r"Zq\d+xW")


def _marker(i: int) -> str:
    return f"Zq{i}xW"


Render = Callable[[Messages], str]
Count = Callable[[str], "int | None"]  # None: the text cannot be counted this way


@dataclass(frozen=True)
class Plan:
    """How to count one example: the template's own tokens plus those of ``contents``;
    ``trained`` marks the contents whose tokens (and the turn's end marker) are learnt."""

    fixed_total: int
    fixed_trained: int
    contents: list[str]
    trained: list[bool]


class Layout:
    """``pieces`` are the template's text around the contents; ``fixed_total`` their tokens and
    ``turn_end_tokens`` those of an assistant turn's end marker."""

    def __init__(self, pieces: list[str], fixed_total: int, turn_end_tokens: int, boundaries: Boundaries) -> None:
        self.fixed_total = fixed_total
        self.turn_end_tokens = turn_end_tokens
        self._boundaries = boundaries
        # What the pre-tokenizer sees right before each content: the piece's text after its
        # last special token.
        self._tails = [boundaries.specials.split(piece)[-1] for piece in pieces[:-1]]

    def plan(self, messages: Messages) -> Plan | None:
        contents = [message["content"] for message in messages]
        splits_apart = self._boundaries.splits_apart
        for tail, content in zip(self._tails, contents):
            if not splits_apart(tail, content):
                return None
        trained = [m["role"] == "assistant" and bool(m.get("weight", 1)) for m in messages]
        return Plan(self.fixed_total, self.turn_end_tokens * sum(trained), contents, trained)


class Boundaries:
    """Whether the pre-tokenizer splits ``tail + content`` exactly between the two, as it
    splits each alone; shared by every layout of one template."""

    def __init__(self, special_tokens: list[str]) -> None:
        self.special_tokens = special_tokens
        self.specials = _alternation(special_tokens)
        self._tails: dict[str, tuple[list[int], bool]] = {}
        self._verdicts: dict[tuple[str, str], bool] = {}

    def splits_apart(self, tail: str, content: str) -> bool:
        """The GPT-2 split decides a boundary from at most the two characters after it (a
        contraction such as 're), unless the first is whitespace, whose run may go on; the
        verdict is cached on those two characters."""
        if not tail:
            return True
        ends, may_straddle = self._tail(tail)
        head = content[:2]
        key = None if may_straddle or head[:1].isspace() else (tail, head)
        if key is not None and (verdict := self._verdicts.get(key)) is not None:
            return verdict
        joined = tail + content[:_LOOKAHEAD]
        straddles = False
        for match in self.specials.finditer(joined):
            if match.start() < len(tail) < match.end():
                straddles = True
            if match.start() >= len(tail):
                joined = joined[: match.start()]  # the tokenizer cuts the text there first
                break
        verdict = not straddles and [end for end in _piece_ends(joined) if end <= len(tail)] == ends
        if key is not None:
            if len(self._verdicts) > _VERDICTS:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        return verdict

    def _tail(self, tail: str) -> tuple[list[int], bool]:
        """Where the tail alone is split, and whether a special token could start in it and
        end in the content."""
        if tail not in self._tails:
            tokens = self.special_tokens
            may_straddle = any(tail.endswith(token[:k]) for token in tokens for k in range(1, len(token)))
            self._tails[tail] = (_piece_ends(tail), may_straddle)
        return self._tails[tail]


class ChatLayouts:
    """Layouts per role sequence for one tokenizer's template, learnt on first sight."""

    def __init__(self, render: Render, count: Count, special_tokens: Iterable[str], turn_end: str) -> None:
        self._render = render
        self._count = count
        self._boundaries = Boundaries(sorted(special_tokens, key=len, reverse=True))
        self._turn_end = turn_end
        self._layouts: dict[tuple[str, ...], Layout | None] = {}

    def plan(self, messages: Messages) -> Plan | None:
        if len(messages) > MAX_MESSAGES:
            return None
        roles = tuple(message["role"] for message in messages)
        if roles not in self._layouts:
            if len(self._layouts) > 4096:
                self._layouts.clear()
            self._layouts[roles] = self._learn(roles)
        layout = self._layouts[roles]
        return layout.plan(messages) if layout is not None else None

    def _learn(self, roles: tuple[str, ...]) -> Layout | None:
        markers = [_marker(i) for i in range(len(roles))]
        try:
            rendered = self._render([{"role": r, "content": c} for r, c in zip(roles, markers)])
            pieces = _split_on(rendered, markers)
            spaced = [f" \n {marker}\t\n" for marker in markers]
            if pieces is None or self._render([{"role": r, "content": c} for r, c in zip(roles, spaced)]) != _join(
                pieces, spaced
            ):
                return None
        except Exception:  # the template refuses this sequence; the full render reports why
            return None
        if not self._boundaries_are_tokens(pieces, roles):
            return None
        *piece_tokens, turn_end_tokens = map(self._count, [*pieces, self._turn_end])
        if turn_end_tokens is None or None in piece_tokens:
            return None
        return Layout(pieces, sum(piece_tokens), turn_end_tokens, self._boundaries)

    def _boundaries_are_tokens(self, pieces: list[str], roles: tuple[str, ...]) -> bool:
        """Each content must end where a special token (or the text) begins, and an assistant
        turn's end marker must be followed by one, so both are whole tokens."""

        def starts_special(text: str) -> bool:
            return self._boundaries.specials.match(text) is not None

        after_contents = pieces[1:]
        last = after_contents[-1]
        if not all(map(starts_special, after_contents[:-1])) or not (last == "" or starts_special(last)):
            return False
        turn_end = self._turn_end
        for role, after in zip(roles, after_contents):
            if role == "assistant":
                if not (turn_end and after.startswith(turn_end) and starts_special(turn_end)):
                    return False
                rest = after[len(turn_end) :]
                if rest and not starts_special(rest):
                    return False
        return True


def _alternation(tokens: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, tokens))) if tokens else re.compile(r"(?!)")


def _piece_ends(text: str) -> list[int]:
    return [match.end() for match in _SPLIT.finditer(text)]


def _split_on(rendered: str, markers: list[str]) -> list[str] | None:
    """The text around each marker, in order; None unless each appears exactly once."""
    found = list(_MARKER.finditer(rendered))
    if [match.group() for match in found] != markers:
        return None
    cuts = [0, *(i for match in found for i in match.span()), len(rendered)]
    return [rendered[start:end] for start, end in zip(cuts[::2], cuts[1::2])]


def _join(pieces: list[str], contents: list[str]) -> str:
    return "".join(piece + content for piece, content in zip(pieces, [*contents, ""]))
