"""Statistics over the valid examples of a dataset, accumulated in one streaming pass.

Memory per example is fixed and small — a 4-byte token count, an 8-byte hash and a 4-byte line
number — and independent of how long the examples are; the text itself is held only for the
current tokenisation batch.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from typing import Any

from workers.ml.data.chat_tokens import ChatTokenCounter
from workers.ml.data.issues import IssueLog
from workers.ml.data.labels import LabelCounter
from workers.ml.data.pii import PiiSummary
from workers.ml.data.schema import Messages, class_label, example_digest

HISTOGRAM_BINS = 20
DUPLICATE_SAMPLES = 10


class Analysis:
    def __init__(self, issues: IssueLog, tokenizer: Any | None, max_seq_len: int | None, batch_size: int = 512) -> None:
        self.issues = issues
        self.counter = ChatTokenCounter(tokenizer) if tokenizer is not None else None
        self.max_seq_len = max_seq_len
        self.batch_size = batch_size
        self.lines = array("I")
        self.digests = array("Q")
        self.lengths = array("I")
        self.trained_tokens = 0
        self.over_limit = 0
        self.labels = LabelCounter()
        self.pii = PiiSummary()
        self._pending: list[tuple[int, Messages]] = []
        # One batch is tokenised in the background while the next is read (see chat_tokens).
        self._in_flight: tuple[list[int], Callable[[], list[tuple[int, int] | str]]] | None = None
        self.rejected = 0  # valid JSON examples that the chat template refused

    @property
    def n_examples(self) -> int:
        return len(self.lines) - self.rejected

    def add(self, line: int, messages: Messages) -> None:
        self.lines.append(line)
        self.digests.append(example_digest(messages))
        self.labels.add(class_label(messages))
        self.pii.scan(line, [message["content"] for message in messages])
        if self.counter is not None:
            self._pending.append((line, messages))
            if len(self._pending) >= self.batch_size:
                self._flush()

    def _flush(self) -> None:
        assert self.counter is not None
        submitted = ([line for line, _ in self._pending], self.counter.submit([m for _, m in self._pending]))
        self._pending = []
        self._collect()
        self._in_flight = submitted

    def _collect(self) -> None:
        if self._in_flight is None:
            return
        lines, counts = self._in_flight
        self._in_flight = None
        for line, result in zip(lines, counts()):
            if isinstance(result, str):
                self.rejected += 1
                self.issues.add(
                    "template_error", f"The base model's chat template refuses this example: {result}", line
                )
                continue
            total, trained = result
            self.lengths.append(total)
            self.trained_tokens += trained
            if self.max_seq_len is not None and total > self.max_seq_len:
                self.over_limit += 1
                self.issues.add(
                    "too_many_tokens",
                    f"The example is {total} tokens once templated; the base model takes at most "
                    f"{self.max_seq_len}. Shorten it or split the conversation.",
                    line,
                )

    def finish(self) -> dict[str, Any]:
        """Flush the last batch and return the JSON-ready statistics."""
        if self.counter is not None:
            if self._pending:
                self._flush()
            self._collect()
        result: dict[str, Any] = {
            "stats": {"n_examples": self.n_examples, **self._duplicates()},
            "histogram": None,
            "labels": self.labels.to_dict(),
            "pii": self.pii.to_dict(),
        }
        if self.counter is not None and self.lengths:
            result["stats"].update(self._token_stats())
            result["histogram"] = histogram(self.lengths)
        return result

    def close(self) -> None:
        if self.counter is not None:
            self.counter.close()

    def _token_stats(self) -> dict[str, Any]:
        import numpy as np

        lengths = np.frombuffer(self.lengths, dtype=np.uint32)
        return {
            "total_tokens": int(lengths.sum(dtype=np.int64)),
            "trained_tokens_per_epoch": self.trained_tokens,
            "min_tokens": int(lengths.min()),
            "mean_tokens": round(float(lengths.mean()), 1),
            "p50_tokens": int(np.percentile(lengths, 50, method="nearest")),
            "p95_tokens": int(np.percentile(lengths, 95, method="nearest")),
            "max_tokens": int(lengths.max()),
            "max_seq_len": self.max_seq_len,
            "over_limit": self.over_limit,
        }

    def _duplicates(self) -> dict[str, Any]:
        """Examples identical to an earlier one, found by sorting hashes once at the end
        instead of keeping a growing set of Python objects."""
        import numpy as np

        if not self.digests:
            return {"duplicates": 0, "duplicate_samples": []}
        digests = np.frombuffer(self.digests, dtype=np.uint64)
        _, first, inverse = np.unique(digests, return_index=True, return_inverse=True)
        first_of_each = first[inverse]
        repeats = np.flatnonzero(first_of_each != np.arange(len(digests)))
        lines = np.frombuffer(self.lines, dtype=np.uint32)
        samples = [
            {"line": int(lines[i]), "duplicate_of": int(lines[first_of_each[i]])} for i in repeats[:DUPLICATE_SAMPLES]
        ]
        return {"duplicates": len(repeats), "duplicate_samples": samples}


def _nice_width(raw: float) -> int:
    """Smallest 1, 2 or 5 times a power of ten that is >= ``raw``: readable chart buckets."""
    if raw <= 1:
        return 1
    power = 10 ** math.floor(math.log10(raw))
    return int(next(step * power for step in (1, 2, 5, 10) if step * power >= raw))


def histogram(lengths: array, bins: int = HISTOGRAM_BINS) -> dict[str, list[int]]:
    """Token-length histogram over the observed range: ``edges`` has one more entry than
    ``counts``; bucket i holds lengths in [edges[i], edges[i+1])."""
    import numpy as np

    values = np.frombuffer(lengths, dtype=np.uint32)
    low, high = int(values.min()), int(values.max())
    width = _nice_width((high - low + 1) / bins)
    start = low // width * width
    n_bins = (high - start) // width + 1
    counts = np.bincount((values - start) // width, minlength=n_bins)
    return {"edges": [start + i * width for i in range(n_bins + 1)], "counts": [int(c) for c in counts]}
