"""Personal data in training text: e-mail addresses, phone numbers, payment cards, IBANs.

A fine-tuned model can repeat its training data verbatim, so Tunery warns before training
and offers a redacted copy. Card numbers must pass the Luhn check and IBANs the ISO 13616
mod-97 check, which keeps order numbers and invoice ids from being flagged.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from workers.ml.data.transform import PathLike, iter_records, refuse_overwrite, write_atomically

KINDS = ("email", "phone", "card", "iban")
SAMPLE_LINES = 10

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Candidates only: digit runs with the separators people type, and IBAN-shaped words. Both
# start with a character class so the regex engine can skip ahead fast; word boundaries and
# the real rules (checksums, digit counts) are checked in Python on the few candidates.
# ASCII [0-9] rather than \d: faster, and personal numbers are written in ASCII digits.
_NUMBER = re.compile(r"[+(0-9][0-9 ().-]{7,}")
_IBAN = re.compile(r"[A-Z][A-Z][0-9][0-9](?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?")
_DIGIT = re.compile(r"[0-9]")
_GROUP = re.compile(r"[0-9]+")
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4}")


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _classify_number(match: str) -> str | None:
    digits = "".join(_DIGIT.findall(match))
    if 13 <= len(digits) <= 19 and luhn_valid(digits):
        return "card"
    if not 9 <= len(digits) <= 15 or _DATE.search(match):
        return None
    # International numbers (+, E.164: at most 15 digits) or national ones (at most 12) written
    # in a few short digit groups; a bare digit run, a decimal number or a list of small
    # numbers is more often an id, amount or timestamp.
    if match.startswith("+"):
        return "phone"
    groups = _GROUP.findall(match)
    if len(digits) <= 12 and 3 <= len(groups) <= 5 and max(map(len, groups)) <= 4:
        return "phone" if all(len(group) >= 2 for group in groups[1:]) else None
    return None


def _isolated(text: str, start: int, end: int) -> bool:
    """True when text[start:end] is not glued to a longer word or number."""
    return (start == 0 or not (text[start - 1].isalnum() or text[start - 1] in "_+")) and (
        end == len(text) or not (text[end].isalnum() or text[end] == "_")
    )


def find_pii(text: str) -> list[tuple[str, int, int]]:
    """``(kind, start, end)`` for each finding in ``text``, in order, without overlaps."""
    found: list[tuple[str, int, int]] = []
    if "@" in text:
        found += [("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]
    if _DIGIT.search(text):
        for match in _IBAN.finditer(text):
            if _isolated(text, match.start(), match.end()) and iban_valid(match.group()):
                found.append(("iban", match.start(), match.end()))
        for match in _NUMBER.finditer(text):
            candidate = match.group().rstrip(" .-(")
            start, end = match.start(), match.start() + len(candidate)
            kind = _classify_number(candidate) if _isolated(text, start, end) else None
            if kind:
                found.append((kind, start, end))
    found.sort(key=lambda item: (item[1], -item[2]))
    kept: list[tuple[str, int, int]] = []
    for item in found:
        if not kept or item[1] >= kept[-1][2]:
            kept.append(item)
    return kept


@dataclass
class PiiSummary:
    """Counts per kind and the first few line numbers where each kind occurs."""

    counts: Counter[str] = field(default_factory=Counter)
    lines: dict[str, list[int]] = field(default_factory=dict)

    def scan(self, line: int, texts: list[str]) -> None:
        for text in texts:
            for kind, _, _ in find_pii(text):
                self.counts[kind] += 1
                samples = self.lines.setdefault(kind, [])
                if len(samples) < SAMPLE_LINES and (not samples or samples[-1] != line):
                    samples.append(line)

    def to_dict(self) -> dict[str, Any]:
        return {kind: {"count": self.counts[kind], "lines": self.lines[kind]} for kind in KINDS if self.counts[kind]}


def redact_text(text: str, counts: Counter[str] | None = None) -> str:
    """Replace each finding with a placeholder such as ``[EMAIL]``."""
    findings = find_pii(text)
    if not findings:
        return text
    parts, cursor = [], 0
    for kind, start, end in findings:
        parts += [text[cursor:start], f"[{kind.upper()}]"]
        cursor = end
        if counts is not None:
            counts[kind] += 1
    parts.append(text[cursor:])
    return "".join(parts)


@dataclass
class RedactionResult:
    path: str
    n_lines: int
    redacted: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _redact_value(value: Any, counts: Counter[str]) -> Any:
    if isinstance(value, str):
        return redact_text(value, counts)
    if isinstance(value, list):
        return [_redact_value(item, counts) for item in value]
    if isinstance(value, dict):
        # Keys are structure (role, content, weight), never personal data.
        return {key: _redact_value(item, counts) for key, item in value.items()}
    return value


def redact_pii(src: PathLike, dst: PathLike) -> RedactionResult:
    """Write a copy of the JSONL file ``src`` to ``dst`` with every string value redacted.

    Lines that are not JSON are copied unchanged (validation reports them); unchanged lines keep
    their exact bytes so a redacted file diffs cleanly against the original.
    """
    refuse_overwrite(src, dst)
    counts: Counter[str] = Counter()
    n_lines = 0
    with write_atomically(dst) as out:
        for _, _, raw in iter_records(src):
            n_lines += 1
            try:
                obj = json.loads(raw)
            except ValueError:
                out.write(raw + b"\n")
                continue
            before = sum(counts.values())
            redacted = _redact_value(obj, counts)
            if sum(counts.values()) == before:
                out.write(raw + b"\n")
            else:
                # backslashreplace turns an (invalid) lone surrogate back into its JSON escape
                out.write(json.dumps(redacted, ensure_ascii=False).encode("utf-8", "backslashreplace") + b"\n")
    return RedactionResult(path=os.fspath(dst), n_lines=n_lines, redacted=dict(counts))
