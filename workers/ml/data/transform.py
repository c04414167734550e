"""Cleaning and splitting: each operation reads a validated JSONL file and writes NEW files.

Inputs are never modified (a dataset file is immutable once uploaded; a cleaned copy becomes a
new file). Memory scales with the number of lines, not their size: a pass keeps 8 bytes per
line (an offset or a hash, plus 1 byte for a class in a stratified split) and re-reads the
lines it writes, so a 10 GB file with a million lines needs a few MB.
"""

from __future__ import annotations

import os
import tempfile
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from workers.ml.data.labels import LabelCounter
from workers.ml.data.lines import DEFAULT_MAX_LINE_BYTES, iter_lines
from workers.ml.data.schema import LineError, Messages, canonical_messages, class_label, example_digest, parse_line
from workers.ml.errors import TrainingError

PathLike = str | os.PathLike[str]


def refuse_overwrite(src: PathLike, *outputs: PathLike) -> None:
    """The input is never modified, even when a caller passes it as an output by mistake."""
    source = Path(src).resolve()
    if any(Path(output).resolve() == source for output in outputs):
        raise ValueError(f"The output would overwrite the input {src}; write to a new path.")


@contextmanager
def write_atomically(dst: PathLike) -> Iterator[BinaryIO]:
    """Write to a temporary sibling and rename over ``dst`` only on success, so readers never
    see a half-written file and a failure leaves no debris."""
    target = Path(dst)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(scratch, target)
    except BaseException:
        os.unlink(scratch)
        raise


def iter_records(path: PathLike) -> Iterator[tuple[int, int, bytes]]:
    """``(line_number, offset, line)`` for each non-blank line, line endings stripped."""
    with open(path, "rb") as handle:
        for number, offset, raw in iter_lines(handle, DEFAULT_MAX_LINE_BYTES):
            if raw is None:
                raise TrainingError("invalid_file", f"Line {number} is too long; validate the file first.", "file")
            raw = raw.rstrip(b"\r\n")
            if raw.strip():
                yield number, offset, raw


def _messages(number: int, raw: bytes) -> Messages:
    try:
        return canonical_messages(parse_line(raw.decode("utf-8")), None)[1]
    except (LineError, UnicodeDecodeError) as exc:
        raise TrainingError(
            "invalid_file", f"Line {number} is not a valid example ({exc}); validate the file first.", "file"
        ) from None


@dataclass
class TransformResult:
    path: str
    n_in: int
    n_out: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SplitResult:
    train_path: str
    validation_path: str
    n_train: int
    n_validation: int
    stratified: bool
    # label -> {"train": n, "validation": n}; None unless stratified
    classes: dict[str, dict[str, int]] | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def deduplicate(src: PathLike, dst: PathLike) -> TransformResult:
    """Keep the first occurrence of each example (compared in canonical form, so key order and
    JSON spacing do not hide a duplicate)."""
    import numpy as np

    refuse_overwrite(src, dst)
    digests = array("Q", (example_digest(_messages(number, raw)) for number, _, raw in iter_records(src)))
    keep = np.zeros(len(digests), dtype=bool)
    keep[np.unique(np.frombuffer(digests, dtype=np.uint64), return_index=True)[1]] = True
    with write_atomically(dst) as out:
        for index, (_, _, raw) in enumerate(iter_records(src)):
            if keep[index]:
                out.write(raw + b"\n")
    return TransformResult(path=os.fspath(dst), n_in=len(digests), n_out=int(keep.sum()))


def _copy_lines(src: PathLike, offsets: array, order: Any, out: BinaryIO) -> None:
    """Copy lines by byte offset in ``order`` (random reads: no line is held in memory)."""
    with open(src, "rb") as source:
        for index in order:
            source.seek(offsets[index])
            out.write(source.readline().rstrip(b"\r\n") + b"\n")


def shuffle(src: PathLike, dst: PathLike, *, seed: int) -> TransformResult:
    """Random line order, the same for the same seed and file on every machine (numpy PCG64)."""
    import numpy as np

    refuse_overwrite(src, dst)
    offsets = array("Q", (offset for _, offset, _ in iter_records(src)))
    order = np.random.default_rng(seed).permutation(len(offsets))
    with write_atomically(dst) as out:
        _copy_lines(src, offsets, order, out)
    return TransformResult(path=os.fspath(dst), n_in=len(offsets), n_out=len(offsets))


def split(
    src: PathLike,
    train_dst: PathLike,
    validation_dst: PathLike,
    *,
    validation_fraction: float = 0.1,
    seed: int = 0,
    stratify: bool | None = None,
) -> SplitResult:
    """Split into train and validation files, keeping the original order inside each.

    ``stratify=None`` stratifies when the data is classification-like (labels.LabelCounter), so
    each class keeps its share in both files; True insists on it and False turns it off.
    Exactly round(n * validation_fraction) examples go to validation.
    """
    import numpy as np

    refuse_overwrite(src, train_dst, validation_dst)
    if not 0 < validation_fraction < 1:
        raise TrainingError("invalid_split", "validation_fraction must be between 0 and 1.", "validation_fraction")
    counter = LabelCounter()
    classes = array("b", (counter.add(class_label(_messages(number, raw))) for number, _, raw in iter_records(src)))
    n = len(classes)
    n_validation = round(n * validation_fraction)
    if n_validation < 1 or n_validation >= n:
        raise TrainingError(
            "invalid_split",
            f"{n} examples cannot be split {1 - validation_fraction:.0%}/{validation_fraction:.0%} "
            "with at least one example on each side.",
            "validation_fraction",
        )
    stratified = counter.class_like if stratify is None else stratify
    if stratified and not counter.class_like:
        raise TrainingError(
            "invalid_split", "Stratification needs classification-like data (a few short answers).", "stratify"
        )
    rng = np.random.default_rng(seed)
    to_validation = np.zeros(n, dtype=bool)
    if stratified:
        class_of = np.frombuffer(classes, dtype=np.int8)
        members = [np.flatnonzero(class_of == c) for c in range(len(counter.labels()))]
        for indices, quota in zip(members, _quotas([len(m) for m in members], n_validation)):
            to_validation[rng.permutation(indices)[:quota]] = True
    else:
        to_validation[rng.permutation(n)[:n_validation]] = True
    with write_atomically(train_dst) as train, write_atomically(validation_dst) as validation:
        for index, (_, _, raw) in enumerate(iter_records(src)):
            (validation if to_validation[index] else train).write(raw + b"\n")
    per_class = None
    if stratified:
        class_of = np.frombuffer(classes, dtype=np.int8)
        per_class = {
            label: {
                "train": int(((class_of == c) & ~to_validation).sum()),
                "validation": int(((class_of == c) & to_validation).sum()),
            }
            for c, label in enumerate(counter.labels())
        }
    return SplitResult(
        train_path=os.fspath(train_dst),
        validation_path=os.fspath(validation_dst),
        n_train=n - n_validation,
        n_validation=n_validation,
        stratified=bool(stratified),
        classes=per_class,
    )


def _quotas(sizes: list[int], total: int) -> list[int]:
    """Validation examples per class, proportional to class size and summing to ``total``
    (largest-remainder rounding, ties to the larger class)."""
    n = sum(sizes)
    exact = [size * total / n for size in sizes]
    quotas = [int(value) for value in exact]
    by_remainder = sorted(range(len(sizes)), key=lambda i: (exact[i] - quotas[i], sizes[i]), reverse=True)
    for i in by_remainder[: total - sum(quotas)]:
        quotas[i] += 1
    return quotas
