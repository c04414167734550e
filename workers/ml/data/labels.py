"""Detecting classification-style data: every example ends in one of a few short answers.

Such data gets a label distribution and imbalance warning in the analysis, stratified
train/validation splits, and (in evaluation) exact-match accuracy and a confusion matrix.
Memory stays bounded: counting stops as soon as the data cannot be class-like.
"""

from __future__ import annotations

from typing import Any

MAX_CLASSES = 20
# The most frequent class this many times more common than the rarest one gets a warning.
IMBALANCE_RATIO = 5.0


class LabelCounter:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self._index: dict[str, int] = {}
        self.n_examples = 0
        self.possible = True

    def add(self, label: str | None) -> int:
        """Count one example's label; returns its class index (0..MAX_CLASSES-1), or -1 once
        the data is known not to be class-like."""
        self.n_examples += 1
        if not self.possible:
            return -1
        index = self._index.get(label) if label is not None else None
        if index is None:
            if label is None or len(self._index) >= MAX_CLASSES:
                self.possible = False
                self.counts.clear()
                self._index.clear()
                return -1
            index = self._index[label] = len(self._index)
            self.counts[label] = 0
        self.counts[label] += 1
        return index

    def labels(self) -> list[str]:
        """Class names in index order."""
        return list(self._index)

    @property
    def class_like(self) -> bool:
        # At least two classes, and answers repeat: on average each class is seen twice or more.
        return self.possible and len(self.counts) >= 2 and self.n_examples >= 2 * len(self.counts)

    @property
    def imbalanced(self) -> bool:
        return self.class_like and max(self.counts.values()) >= IMBALANCE_RATIO * min(self.counts.values())

    def to_dict(self) -> dict[str, Any] | None:
        if not self.class_like:
            return None
        ordered = dict(sorted(self.counts.items(), key=lambda item: (-item[1], item[0])))
        return {"classes": ordered, "n_classes": len(ordered), "imbalanced": self.imbalanced}
