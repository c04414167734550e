"""Read a JSONL dataset with errors that name the line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workers.ml.errors import TrainingError


def read_jsonl(path: str | Path, param: str = "training_file") -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; line numbers count from 1 as in an editor."""
    path = Path(path)
    if not path.is_file():
        raise TrainingError("invalid_file", f"The file {path.name} does not exist.", param)
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TrainingError("invalid_file", f"Line {line_no} is not valid JSON: {exc.msg}.", param) from None
            if not isinstance(value, dict):
                raise TrainingError("invalid_file", f"Line {line_no} must be a JSON object.", param)
            rows.append((line_no, value))
    return rows
