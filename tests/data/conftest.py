"""Fixtures for the dataset core: the embedded model's tokenizer and a JSONL file writer.

The dataset core is Django-free; these tests only need files in tmp_path.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.data.factories import chat, dumps


@pytest.fixture(scope="session")
def tokenizer() -> Any:
    from workers.ml.base_models import load_tokenizer

    return load_tokenizer()


@pytest.fixture
def write_lines(tmp_path: Path) -> Callable[..., Path]:
    """Write rows one per line (dicts JSON-encoded, strings as-is) and return the path."""

    def write(rows: list[Any], name: str = "train.jsonl", newline: str = "\n", prefix: bytes = b"") -> Path:
        path = tmp_path / name
        path.write_bytes(prefix + "".join(dumps(row) + newline for row in rows).encode("utf-8"))
        return path

    return write


@pytest.fixture
def valid_rows() -> list[dict[str, Any]]:
    return [chat(i) for i in range(12)]
