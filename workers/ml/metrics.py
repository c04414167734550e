"""Answer-level metrics for evaluation: plain Python, no model needed, easy to check by hand."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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


# JSON answers: each reference is a JSON object. A prediction counts only if it parses as one,
# as an application calling json.loads on it would need.
MAX_JSON_FIELDS = 20  # per-field accuracy for the most frequent top-level keys


def parse_json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def json_references(references: Sequence[str]) -> list[dict[str, Any]] | None:
    """The references as JSON objects when every one is a JSON object, else None."""
    parsed = [parse_json_object(r) for r in references]
    if not parsed or any(p is None for p in parsed):
        return None
    return parsed  # type: ignore[return-value]


def _canonical(value: Any) -> Any:
    """Equal JSON values compare equal (1 == 1.0, key order ignored) but true is not 1."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, bool):
        return ("bool", value)
    return value


def answer_correct(reference: str, prediction: str) -> bool:
    """One answer right or wrong: a JSON-object reference needs an equal object (key order and
    1 vs 1.0 ignored), any other reference an exact match as ``normalize_answer`` compares."""
    expected = parse_json_object(reference)
    if expected is None:
        return normalize_answer(reference) == normalize_answer(prediction)
    found = parse_json_object(prediction)
    return found is not None and _canonical(found) == _canonical(expected)


@dataclass
class JsonScores:
    valid_rate: float  # predictions that parse as a JSON object
    object_match: float  # predictions equal to the reference object as a whole
    field_accuracy: dict[str, float]  # key: among references with it, predictions with the same value


def json_scores(references: Sequence[dict[str, Any]], predictions: Sequence[str]) -> JsonScores:
    parsed = [parse_json_object(p) for p in predictions]
    pairs = list(zip(references, parsed, strict=True))
    counts = Counter(key for reference in references for key in reference)
    fields = [key for key, _ in counts.most_common(MAX_JSON_FIELDS)]
    missing = object()
    field_accuracy = {
        key: sum(p is not None and _canonical(p.get(key, missing)) == _canonical(r[key]) for r, p in pairs if key in r)
        / counts[key]
        for key in fields
    }
    n = len(pairs) or 1
    return JsonScores(
        valid_rate=sum(p is not None for p in parsed) / n,
        object_match=sum(p is not None and _canonical(p) == _canonical(r) for r, p in pairs) / n,
        field_accuracy=field_accuracy,
    )


# Free text: word overlap with the reference, case-insensitive, punctuation ignored.


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _f_measure(overlap: int, n_prediction: int, n_reference: int) -> float:
    if not n_prediction and not n_reference:
        return 1.0
    return 2 * overlap / (n_prediction + n_reference)


def token_f1(reference: str, prediction: str) -> float:
    """F1 of the words in common, counted with multiplicity (SQuAD's answer F1)."""
    ref, pred = _words(reference), _words(prediction)
    return _f_measure(sum((Counter(ref) & Counter(pred)).values()), len(pred), len(ref))


def rouge_l(reference: str, prediction: str) -> float:
    """ROUGE-L F1: the longest common subsequence of words, so word order counts."""
    ref, pred = _words(reference), _words(prediction)
    previous = [0] * (len(pred) + 1)
    for r in ref:
        current = [0]
        for j, p in enumerate(pred):
            current.append(previous[j] + 1 if r == p else max(previous[j + 1], current[j]))
        previous = current
    return _f_measure(previous[-1], len(pred), len(ref))


def mean_score(score: Callable[[str, str], float], references: Sequence[str], predictions: Sequence[str]) -> float:
    pairs = list(zip(references, predictions, strict=True))
    return sum(score(r, p) for r, p in pairs) / len(pairs) if pairs else 0.0
