"""Token counts per example, measured the way training sees the example.

Each example is rendered with the tokenizer's chat template (``apply_chat_template``, the same
call training uses) and the rendered texts are encoded in batches by the Rust tokenizer, which
spreads a batch over all cores; one call per example would pay Python overhead per row and use
one core. Encoding runs in a background thread (the Rust call releases the GIL), so parsing and
checking the next batch overlaps with tokenising this one.

"Trained" tokens are the ones the loss is computed on: for every assistant message with
weight 1, the tokens that start inside what the template emits for that turn after the
generation prompt — the content and the end-of-turn marker (``<|im_end|>\\n`` for ChatML),
since the model must learn to stop. This equals, per turn, the tokens of the conversation
through that turn minus those of the rendered prompt (add_generation_prompt=True), the usual
way to mask a prompt; tests check the two agree. Weight-0 assistant turns, system and user
turns are context only.

The fast path: for GPT-2-style tokenizers (the embedded SmolLM2 among them) a tiktoken twin
(``fast_bpe``) counts each message's content on its own, and the template's share comes from a
layout learnt once per role sequence (``chat_layout``). Nothing is rendered, no offsets are
built, and contents repeated across examples (shared system prompts) are counted once. The
counts are the same by construction, and the tests compare both paths on every fixture;
examples the layout cannot vouch for take the path above.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from workers.ml.data.chat_layout import ChatLayouts, Plan
from workers.ml.data.fast_bpe import count_each, twin_of
from workers.ml.data.schema import Messages

Counts = Callable[[], list[tuple[int, int] | str]]
# Counts kept across batches, for contents that repeat (system prompts, fixed instructions):
# short ones only, so the cache stays a few MiB whatever the file holds; cleared when full.
_CACHE_ENTRIES = 8192
_CACHE_MAX_CHARS = 2048

_PROBE_ANSWER = "Zq7xW"


class ChatTokenCounter:
    def __init__(self, tokenizer: Any, fast: bool = True) -> None:
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise TypeError("Token counting needs a fast (Rust) tokenizer.")
        from tokenizers import Tokenizer

        # A private copy: the shared tokenizer must not be mutated, and this one must never
        # truncate or pad, or over-long examples would be counted short.
        self._backend = Tokenizer.from_str(backend.to_str())
        self._backend.no_truncation()
        self._backend.no_padding()
        self._tokenizer = tokenizer
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tunery-tokenize")
        self.header, self.suffix = self._turn_markers()
        self._twin = twin_of(tokenizer) if fast else None
        self._layouts = None
        if self._twin is not None:
            self._layouts = ChatLayouts(self.render, self._count_one, self._twin.special_tokens_set, self.suffix)
        self._known: dict[str, int] = {}

    @property
    def fast(self) -> bool:
        """Whether counts come from the tiktoken twin and template layouts (see module doc)."""
        return self._layouts is not None

    def _count_one(self, text: str) -> int | None:
        return count_each(self._twin, [text])[0]

    def close(self) -> None:
        self._pool.shutdown()

    def render(self, messages: Messages, add_generation_prompt: bool = False) -> str:
        return self._tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=add_generation_prompt
        )

    def _turn_markers(self) -> tuple[str, str]:
        """The text the template puts before and after an assistant answer, learnt from a probe
        conversation: ('<|im_start|>assistant\\n', '<|im_end|>\\n') for ChatML. Empty strings when
        the template is not prefix-consistent; spans then cover the content alone."""
        user = [{"role": "user", "content": "Hi"}]
        without = self.render(user)
        prompt = self.render(user, add_generation_prompt=True)
        full = self.render([*user, {"role": "assistant", "content": _PROBE_ANSWER}])
        if not (prompt.startswith(without) and full.startswith(prompt)):
            return "", ""
        turn = full[len(prompt) :]
        if not turn.startswith(_PROBE_ANSWER):
            return "", ""
        return prompt[len(without) :], turn[len(_PROBE_ANSWER) :]

    def trained_spans(self, text: str, messages: Messages) -> list[tuple[int, int]]:
        """Character spans of ``text`` (the rendered example) that training learns."""
        spans: list[tuple[int, int]] = []
        cursor = 0
        for message in messages:
            content = message["content"]
            if message["role"] != "assistant":
                found = text.find(content, cursor)
                cursor = found + len(content) if found >= 0 else cursor
                continue
            # Anchor on the assistant header so a short answer ("a") is not found inside
            # earlier text; fall back to weaker anchors for templates that reshape turns.
            for before, after in ((self.header, self.suffix), (self.header, ""), ("", "")):
                found = text.find(before + content + after, cursor)
                if found >= 0:
                    start = found + len(before)
                    cursor = start + len(content) + len(after)
                    if message.get("weight", 1):
                        spans.append((start, cursor))
                    break
        return spans

    def submit(self, batch: Sequence[Messages]) -> Counts:
        """Start counting ``batch`` in the background; the returned function waits for the
        counts and gives ``(total_tokens, trained_tokens)`` per example, or the template's
        error message for an example the template refuses (strict templates raise, e.g. when
        roles do not alternate)."""
        if self._layouts is None:
            return self._submit_rendered(batch)
        plans = [self._layouts.plan(messages) for messages in batch]
        rest = [messages for messages, plan in zip(batch, plans) if plan is None]
        rest_counts = self._submit_rendered(rest) if rest else list
        # Counts this batch needs: those already known now, and the rest to encode.
        known: dict[str, int] = {}
        fresh: dict[str, None] = {}
        for plan in plans:
            for content in plan.contents if plan else ():
                if content in self._known:
                    known[content] = self._known[content]
                else:
                    fresh[content] = None
        future = self._pool.submit(count_each, self._twin, list(fresh))

        def counts() -> list[tuple[int, int] | str]:
            encoded = {text: n for text, n in zip(fresh, future.result()) if n is not None}
            if len(self._known) + len(encoded) > _CACHE_ENTRIES:
                self._known.clear()
            self._known.update((text, n) for text, n in encoded.items() if len(text) <= _CACHE_MAX_CHARS)
            known.update(encoded)
            rendered = iter(rest_counts())
            results = [_from_plan(plan, known) if plan else next(rendered) for plan in plans]
            # Examples with a content the twin could not encode: counted the reference way.
            redo = [i for i, result in enumerate(results) if result is None]
            for i, result in zip(redo, self._submit_rendered([batch[i] for i in redo])() if redo else []):
                results[i] = result
            return results

        return counts

    def _submit_rendered(self, batch: Sequence[Messages]) -> Counts:
        """The reference path: render each example and encode it whole, with offsets."""
        try:
            rendered: list[str | Exception] = self._tokenizer.apply_chat_template(list(batch), tokenize=False)
        except Exception:  # any template failure: find the failing examples one by one
            rendered = [self._render_or_error(messages) for messages in batch]
        texts = [text for text in rendered if isinstance(text, str)]
        future = self._pool.submit(self._backend.encode_batch, texts, add_special_tokens=False)

        def counts() -> list[tuple[int, int] | str]:
            encodings = iter(future.result())
            results: list[tuple[int, int] | str] = []
            for text, messages in zip(rendered, batch):
                if isinstance(text, Exception):
                    results.append(str(text))
                    continue
                encoding = next(encodings)
                spans = self.trained_spans(text, messages)
                results.append((len(encoding), sum(_tokens_in(encoding, start, end) for start, end in spans)))
            return results

        return counts

    def _render_or_error(self, messages: Messages) -> str | Exception:
        try:
            return self.render(messages)
        except Exception as exc:  # reported per example, not raised
            return exc

    def count(self, batch: Sequence[Messages]) -> list[tuple[int, int] | str]:
        return self.submit(batch)()


def _from_plan(plan: Plan, counts: dict[str, int]) -> tuple[int, int] | None:
    """The example's counts, or None when a content has no count (the twin refused it)."""
    if any(content not in counts for content in plan.contents):
        return None
    tokens = [counts[content] for content in plan.contents]
    trained = sum(n for n, learnt in zip(tokens, plan.trained) if learnt)
    return plan.fixed_total + sum(tokens), plan.fixed_trained + trained


def _tokens_in(encoding: Any, start: int, end: int) -> int:
    """Number of tokens that start inside characters ``start..end``.

    A token straddling ``start`` (BPE can merge the header's newline with leading spaces of
    the answer) belongs to the prompt, as it does when training masks the tokens of the
    rendered prompt. Found with per-character lookups instead of converting the whole offset
    list to Python; some characters map to no token (trimmed whitespace), so scan inwards.
    """
    first = next((t for c in range(start, end) if (t := encoding.char_to_token(c)) is not None), None)
    if first is None:
        return 0
    if encoding.token_to_chars(first)[0] < start:
        first += 1
    last = next(t for c in range(end - 1, start - 1, -1) if (t := encoding.char_to_token(c)) is not None)
    return max(last - first + 1, 0)
