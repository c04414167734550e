"""Problems found in a dataset, collected without letting a bad file flood memory or the UI.

Every problem has a stable ``code`` (for the API and tests), a message written for the person
who uploaded the file, and where known the 1-based line (or spreadsheet row) and column name.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

# One place that lists every code, so docs, API and tests agree on the vocabulary.
ISSUE_CODES: dict[str, str] = {
    # file level
    "empty_file": "The file has no examples.",
    "binary_file": "The file is binary (or another format), not UTF-8 text.",
    "too_few_examples": "Fewer valid examples than training needs.",
    "wrong_format": "The content does not match the declared format.",
    "file_too_large": "An archive member is too large or too compressed (zip bomb guard).",
    "too_many_rows": "More rows or columns than the conversion accepts.",
    "unknown_column": "The column mapping names a column the file does not have.",
    # line level (JSONL) and row level (conversion)
    "line_too_long": "One line is longer than the per-line limit.",
    "invalid_utf8": "Bytes that are not valid UTF-8.",
    "invalid_json": "Not a JSON object (malformed or truncated).",
    "mixed_formats": "A line in a different format than the first example.",
    "missing_messages": "No non-empty 'messages' list.",
    "message_missing_key": "A message without 'role' or 'content'.",
    "missing_key": "A prompt/completion line without 'prompt' or 'completion'.",
    "unrecognized_key": "A key Tunery does not know.",
    "unknown_role": "A role other than system, user, assistant.",
    "content_not_string": "Content that is not a string.",
    "empty_content": "Content that is empty or only whitespace.",
    "invalid_weight": "A weight other than 0 or 1, or on a non-assistant message.",
    "no_assistant_message": "No assistant message to learn from.",
    "too_many_tokens": "Longer than the base model's context once templated.",
    "template_error": "The base model's chat template refuses the example.",
    "empty_cell": "A mapped cell that is empty.",
}


@dataclass(frozen=True)
class Issue:
    code: str
    message: str
    line: int | None = None  # 1-based line (JSONL) or row (spreadsheet); None: whole file
    column: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class IssueLog:
    """Exact counts per code, but only the ``cap`` earliest issues in full.

    Line errors are found out of order (token limits are only known after a batch is
    tokenised), so the log keeps the earliest ``cap`` by line in a bounded heap rather than the
    first ``cap`` reported.
    """

    def __init__(self, cap: int = 100) -> None:
        self.cap = cap
        self.counts: Counter[str] = Counter()
        self._heap: list[tuple[int, int, Issue]] = []  # (-sort key, -seq, issue): max-heap
        self._seq = 0

    def add(self, code: str, message: str, line: int | None = None, column: str | None = None) -> None:
        assert code in ISSUE_CODES, code
        self.counts[code] += 1
        self._seq += 1
        # File-level issues (line None) sort first: they matter most.
        key = (-(line if line is not None else 0), -self._seq, Issue(code, message, line, column))
        if len(self._heap) < self.cap:
            heapq.heappush(self._heap, key)
        elif key > self._heap[0]:
            heapq.heapreplace(self._heap, key)

    def __bool__(self) -> bool:
        return bool(self.counts)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def issues(self) -> list[Issue]:
        return [item[2] for item in sorted(self._heap, reverse=True)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "errors": [issue.to_dict() for issue in self.issues()],
            "error_counts": dict(sorted(self.counts.items())),
            "errors_truncated": self.total > len(self._heap),
        }
