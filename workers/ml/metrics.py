"""Answer-level metrics for evaluation: plain Python, no model needed, easy to check by hand."""

from __future__ import annotations

from collections.abc import Sequence

OTHER = "(other)"  # column for predictions that are none of the reference labels
MAX_CLASSES = 20
MAX_LABEL_WORDS = 4


def normalize_answer(text: str) -> str:
    """Compare answers ignoring case, surrounding whitespace and a trailing full stop."""
    return text.strip().rstrip(".").strip().casefold()


def classification_labels(references: Sequence[str]) -> list[str] | None:
    """Sorted label set when references look like classes, else None.

    Classes: at most MAX_CLASSES distinct short answers, each seen at least twice on average,
    so free-text answers (all distinct) are never scored as classification.
    """
    labels = sorted({normalize_answer(r) for r in references})
    if not references or len(labels) > MAX_CLASSES or len(labels) * 2 > len(references):
        return None
    if any(len(label.split()) > MAX_LABEL_WORDS or not label for label in labels):
        return None
    return labels


def exact_match_accuracy(references: Sequence[str], predictions: Sequence[str]) -> float:
    pairs = list(zip(references, predictions, strict=True))
    return sum(normalize_answer(r) == normalize_answer(p) for r, p in pairs) / len(pairs) if pairs else 0.0


def confusion_matrix(
    references: Sequence[str], predictions: Sequence[str], labels: Sequence[str]
) -> tuple[list[str], list[str], list[list[int]]]:
    """(row labels, column labels, counts): rows are references, columns predictions, with an
    extra OTHER column only when some prediction is not one of ``labels``."""
    index = {label: i for i, label in enumerate(labels)}
    predicted = [normalize_answer(p) for p in predictions]
    columns = list(labels) + ([OTHER] if any(p not in index for p in predicted) else [])
    matrix = [[0] * len(columns) for _ in labels]
    for reference, prediction in zip(references, predicted, strict=True):
        matrix[index[normalize_answer(reference)]][index.get(prediction, len(labels))] += 1
    return list(labels), columns, matrix


def macro_f1(references: Sequence[str], predictions: Sequence[str], labels: Sequence[str]) -> float:
    """Unweighted mean of per-class F1 over the reference labels (a class never predicted and
    never correct scores 0)."""
    rows, _, matrix = confusion_matrix(references, predictions, labels)
    scores = []
    for i, _label in enumerate(rows):
        true_positive = matrix[i][i]
        predicted = sum(matrix[r][i] for r in range(len(rows)))
        actual = sum(matrix[i])
        denominator = predicted + actual
        scores.append(2 * true_positive / denominator if denominator else 0.0)
    return sum(scores) / len(scores) if scores else 0.0
