"""Builders for small dataset files used across the dataset tests."""

from __future__ import annotations

import json
from typing import Any


def chat(i: int, answer: str | None = None) -> dict[str, Any]:
    """A valid, distinct chat example."""
    return {
        "messages": [
            {"role": "system", "content": "You answer briefly."},
            {"role": "user", "content": f"What is {i} plus {i}?"},
            {"role": "assistant", "content": answer if answer is not None else f"It is {2 * i}."},
        ]
    }


def dumps(row: Any) -> str:
    """Dicts and lists as JSON; strings are taken as already-encoded lines."""
    return row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)
