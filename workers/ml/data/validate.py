"""Validate and analyse a JSONL training file in one streaming pass.

The file is read line by line from a binary stream: memory does not grow with file size
(beyond the fixed per-example numbers kept by analyse.Analysis), so a multi-gigabyte upload is
checked with the same footprint as a small one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, BinaryIO, Literal

from workers.ml.data.analyse import Analysis
from workers.ml.data.issues import IssueLog
from workers.ml.data.labels import IMBALANCE_RATIO
from workers.ml.data.lines import DEFAULT_MAX_LINE_BYTES, Source, iter_lines, open_source, peek_head
from workers.ml.data.schema import Format, LineError, canonical_messages, parse_line
from workers.ml.data.sniff import describe_binary, sniff

# OpenAI's fine-tuning API requires at least 10 examples; fewer cannot show a trend either.
MIN_EXAMPLES = 10


@dataclass
class DatasetReport:
    """Everything the dataset page and the job checks need; ``to_dict()`` is JSON-ready."""

    status: Literal["ok", "error"]
    format: Format | None
    n_lines: int
    n_examples: int
    errors: list[dict[str, Any]]
    error_counts: dict[str, int]
    errors_truncated: bool
    stats: dict[str, Any] = field(default_factory=dict)
    histogram: dict[str, list[int]] | None = None
    labels: dict[str, Any] | None = None
    pii: dict[str, Any] = field(default_factory=dict)
    warnings: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_and_analyse(
    source: Source,
    *,
    tokenizer: Any | None,
    max_seq_len: int | None = None,
    error_cap: int = 100,
    min_examples: int = MIN_EXAMPLES,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    batch_size: int = 512,
) -> DatasetReport:
    """Check every line of a chat or prompt/completion JSONL file and compute its statistics.

    ``source`` is a path or a seekable binary stream. With ``tokenizer=None`` only the format is
    checked (no token statistics, no too_many_tokens). The report lists the first
    ``error_cap`` errors by line and exact counts per error code; the status is "error" when
    any error was found, and warnings (duplicates, imbalance, personal data) never fail it.
    """
    issues = IssueLog(error_cap)
    analysis = Analysis(issues, tokenizer, max_seq_len, batch_size)
    try:
        with open_source(source) as stream:
            if _refuse_by_content(peek_head(stream), issues):
                return _report(issues, analysis, None, 0, min_examples)
            file_format, n_lines = _check_lines(stream, issues, analysis, max_line_bytes)
        return _report(issues, analysis, file_format, n_lines, min_examples)
    finally:
        analysis.close()


def _check_lines(
    stream: BinaryIO, issues: IssueLog, analysis: Analysis, max_line_bytes: int
) -> tuple[Format | None, int]:
    """Check each line and hand valid examples to the analysis; returns the file's format
    (decided by its first valid example) and the number of non-blank lines."""
    file_format: Format | None = None
    n_lines = 0
    for number, _, raw in iter_lines(stream, max_line_bytes):
        if raw is None:
            issues.add(
                "line_too_long",
                f"The line is longer than {max_line_bytes / 2**20:g} MiB; it was skipped. "
                "Each example must be on its own line.",
                number,
            )
            n_lines += 1
            continue
        raw = raw.strip()
        if not raw:
            continue  # blank lines (often a trailing newline) are harmless
        n_lines += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            issues.add(
                "invalid_utf8", f"Byte {exc.start + 1} of this line is not valid UTF-8; save the file as UTF-8.", number
            )
            continue
        try:
            file_format, messages = canonical_messages(parse_line(text), file_format)
        except LineError as exc:
            issues.add(exc.code, exc.message, number)
            continue
        analysis.add(number, messages)
    return file_format, n_lines


def _refuse_by_content(head: bytes, issues: IssueLog) -> bool:
    """File-level checks on the first bytes; True when reading lines would be pointless."""
    kind = sniff(head)
    if kind == "empty":
        issues.add("empty_file", "The file is empty or has only blank lines.")
    elif kind == "utf16":
        issues.add("invalid_utf8", "The file is UTF-16 encoded; save it as UTF-8.", 1)
    elif kind in ("xlsx", "binary"):
        what = "an Excel workbook" if kind == "xlsx" else describe_binary(head)
        hint = " Upload it through conversion." if kind == "xlsx" else ""
        issues.add("binary_file", f"The file is {what}, not JSONL text.{hint}")
    elif kind == "json_array":
        issues.add(
            "wrong_format",
            "The file is one JSON array, not JSON Lines (one example per line). Convert it first.",
        )
    else:
        return False
    return True


def _report(
    issues: IssueLog, analysis: Analysis, file_format: Format | None, n_lines: int, min_examples: int
) -> DatasetReport:
    result = analysis.finish()
    n_examples = analysis.n_examples
    # Judged on lines, not valid examples: a short file with a bad line is reported for the
    # line alone when fixing it is enough.
    if n_lines == 0 and not issues:
        issues.add("empty_file", "The file is empty or has only blank lines.")
    elif 0 < n_lines < min_examples:
        issues.add("too_few_examples", f"The file has {n_lines} examples; training needs at least {min_examples}.")
    return DatasetReport(
        status="error" if issues else "ok",
        format=file_format,
        n_lines=n_lines,
        n_examples=n_examples,
        **issues.to_dict(),
        stats=result["stats"],
        histogram=result["histogram"],
        labels=result["labels"],
        pii=result["pii"],
        warnings=_warnings(result),
    )


def _warnings(result: dict[str, Any]) -> list[dict[str, str]]:
    warnings = []
    duplicates = result["stats"]["duplicates"]
    if duplicates:
        warnings.append(
            {
                "code": "duplicates",
                "message": f"{duplicates} examples repeat an earlier one; deduplicate to avoid overfitting.",
            }
        )
    labels = result["labels"]
    if labels and labels["imbalanced"]:
        counts = labels["classes"].values()
        warnings.append(
            {
                "code": "label_imbalance",
                "message": f"The answers look like {labels['n_classes']} classes, and the most common is at least "
                f"{IMBALANCE_RATIO:g}x the rarest ({max(counts)} vs {min(counts)}); the model may learn to favour it.",
            }
        )
    if result["pii"]:
        found = ", ".join(f"{entry['count']} {kind}" for kind, entry in result["pii"].items())
        warnings.append(
            {"code": "pii", "message": f"Possible personal data ({found}); consider the redacted copy before training."}
        )
    return warnings
