"""Turning spreadsheets and JSON exports into Tunery's canonical chat JSONL.

The web page first calls ``preview`` to show the columns and a few rows with a suggested
mapping; the user confirms which column is the user turn, which the assistant answer, and
optionally a system column or one fixed system prompt; ``convert_to_chat_jsonl`` then writes
``{"messages": [...]}`` lines. Rows that cannot become an example are reported by row number
and column, and left out; the written file then goes through validate_and_analyse like any
upload.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from workers.ml.data.issues import IssueLog
from workers.ml.data.tabular import (
    UNDECODABLE,
    Limits,
    SourceFormat,
    Unreadable,
    cell_text,
    detect_format,
    iter_rows,
)
from workers.ml.data.transform import PathLike, write_atomically

# Column names people use for each part, most specific first (matched case-insensitively).
_GUESSES: dict[str, tuple[str, ...]] = {
    "system": ("system", "system_prompt", "system prompt", "instructions"),
    "user": ("user", "prompt", "question", "input", "instruction", "query", "text", "source"),
    "assistant": ("assistant", "completion", "answer", "output", "response", "label", "target", "reply"),
}


@dataclass(frozen=True)
class ColumnMapping:
    """Which column feeds which message. ``system`` names a column; ``system_prompt`` is one
    fixed text for every example; at most one of them."""

    user: str
    assistant: str
    system: str | None = None
    system_prompt: str | None = None

    def __post_init__(self) -> None:
        if self.system and self.system_prompt:
            raise ValueError("Give either a system column or a fixed system prompt, not both.")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnMapping:
        return cls(
            user=data["user"],
            assistant=data["assistant"],
            system=data.get("system") or None,
            system_prompt=data.get("system_prompt") or None,
        )

    def columns(self) -> dict[str, str]:
        """role -> column name, for the mapped columns."""
        pairs = {"system": self.system, "user": self.user, "assistant": self.assistant}
        return {role: column for role, column in pairs.items() if column}


@dataclass
class Preview:
    format: SourceFormat | None
    columns: list[str]
    rows: list[dict[str, str]]
    suggested_mapping: dict[str, str | None]
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ConversionResult:
    status: Literal["ok", "error"]
    path: str | None  # None when nothing could be written
    source_format: SourceFormat | None
    n_rows: int
    n_examples: int
    errors: list[dict[str, Any]]
    error_counts: dict[str, int]
    errors_truncated: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def suggest_mapping(columns: list[str]) -> dict[str, str | None]:
    lowered = {column.lower().strip(): column for column in columns}
    suggestion: dict[str, str | None] = {}
    taken: set[str] = set()
    for role, names in _GUESSES.items():
        match = next((lowered[name] for name in names if name in lowered and lowered[name] not in taken), None)
        suggestion[role] = match
        if match:
            taken.add(match)
    return suggestion


def preview(
    path: PathLike, source_format: SourceFormat | None = None, n: int = 5, limits: Limits = Limits()
) -> Preview:
    """Columns, the first ``n`` rows as text, and a suggested mapping; ``errors`` instead when
    the file cannot be read (wrong format, zip bomb, binary...)."""
    found: SourceFormat | None = None
    rows: list[dict[str, str]] = []
    columns: list[str] = []
    try:
        found = detect_format(os.fspath(path), source_format)
        columns, records = iter_rows(os.fspath(path), found, limits)
        for _, record in records:
            if isinstance(record, dict):
                rows.append({str(key): cell_text(value) or "" for key, value in record.items()})
            if len(rows) >= n:
                break
        records.close()
    except Unreadable as exc:
        issues = IssueLog()
        issues.add(exc.code, exc.message, exc.line)
        return Preview(found, columns, rows, suggest_mapping(columns), issues.to_dict()["errors"])
    return Preview(found, columns, rows, suggest_mapping(columns))


def convert_to_chat_jsonl(
    src: PathLike,
    dst: PathLike,
    *,
    mapping: ColumnMapping | dict[str, Any],
    source_format: SourceFormat | None = None,
    error_cap: int = 100,
    limits: Limits = Limits(),
) -> ConversionResult:
    """Write one ``{"messages": [...]}`` line per usable row of ``src`` to ``dst``.

    ``source_format`` is "csv", "tsv", "xlsx", "json" (a top-level array of objects) or
    "jsonl" (flat objects); None detects it from the content. A declared format that the
    content contradicts is an error. ``dst`` is written atomically, only when the source was
    readable to the end; the status is "error" when any row was left out.
    """
    if isinstance(mapping, dict):
        mapping = ColumnMapping.from_dict(mapping)
    issues = IssueLog(error_cap)
    found: SourceFormat | None = None
    n_rows = n_examples = 0
    try:
        found = detect_format(os.fspath(src), source_format)
        columns, records = iter_rows(os.fspath(src), found, limits)
        # Spreadsheet headers are known up front; JSON objects are checked row by row.
        missing = [c for c in mapping.columns().values() if c not in columns] if found in ("csv", "tsv", "xlsx") else []
        if missing:
            raise Unreadable(
                "unknown_column", f"No column named {missing[0]!r}; the columns are: {', '.join(columns)}."
            )
        with write_atomically(dst) as out:
            for number, record in records:
                n_rows += 1
                messages = _messages(number, record, mapping, issues)
                if messages is not None:
                    out.write(json.dumps({"messages": messages}, ensure_ascii=False).encode("utf-8") + b"\n")
                    n_examples += 1
            if n_rows == 0:
                raise Unreadable("empty_file", "The file has no data rows.")
    except Unreadable as exc:
        issues.add(exc.code, exc.message, exc.line)
        written = None
    else:
        written = os.fspath(dst)
    return ConversionResult(
        status="error" if issues else "ok",
        path=written,
        source_format=found,
        n_rows=n_rows,
        n_examples=n_examples,
        **issues.to_dict(),
    )


def _messages(number: int, record: Any, mapping: ColumnMapping, issues: IssueLog) -> list[dict[str, str]] | None:
    """The chat messages for one row, or None after reporting why the row was left out."""
    if record is UNDECODABLE:
        issues.add("invalid_utf8", "This row is not valid UTF-8; save the file as UTF-8.", number)
        return None
    if not isinstance(record, dict):
        issues.add("invalid_json", f"Each element must be a JSON object, got {type(record).__name__}.", number)
        return None
    messages = [{"role": "system", "content": mapping.system_prompt}] if mapping.system_prompt else []
    for role, column in mapping.columns().items():
        if column not in record:
            issues.add("unknown_column", f"This row has no {column!r} key.", number, column)
            return None
        text = cell_text(record[column])
        if text is None:
            issues.add("content_not_string", f"{column!r} holds a nested object or list, not text.", number, column)
            return None
        if not text.strip():
            if role == "system":
                continue  # an empty system cell just means no system prompt for this row
            issues.add("empty_cell", f"{column!r} is empty; the {role} message needs text.", number, column)
            return None
        messages.append({"role": role, "content": text})
    return messages
