"""Answer-level metrics on inputs small enough to check by hand."""

import pytest

from workers.ml.metrics import OTHER, classification_labels, confusion_matrix, exact_match_accuracy, macro_f1

REFERENCES = ["cat", "cat", "dog", "dog", "bird", "bird"]
PREDICTIONS = ["Cat.", "dog", "dog", "dog", "bird", "fish"]


def test_exact_match_ignores_case_whitespace_and_final_full_stop():
    assert exact_match_accuracy(REFERENCES, PREDICTIONS) == pytest.approx(4 / 6)


def test_confusion_matrix_rows_are_references_with_other_column():
    rows, columns, matrix = confusion_matrix(REFERENCES, PREDICTIONS, ["bird", "cat", "dog"])
    assert rows == ["bird", "cat", "dog"] and columns == ["bird", "cat", "dog", OTHER]
    assert matrix == [
        [1, 0, 0, 1],  # bird: once right, once "fish"
        [0, 1, 1, 0],  # cat: once right, once "dog"
        [0, 0, 2, 0],  # dog: twice right
    ]


def test_macro_f1_by_hand():
    # bird: P=1/1 R=1/2 F1=2/3; cat: P=1/1 R=1/2 F1=2/3; dog: P=2/3 R=2/2 F1=4/5.
    assert macro_f1(REFERENCES, PREDICTIONS, ["bird", "cat", "dog"]) == pytest.approx((2 / 3 + 2 / 3 + 4 / 5) / 3)


def test_perfect_and_hopeless_predictions():
    labels = ["bird", "cat", "dog"]
    assert macro_f1(REFERENCES, REFERENCES, labels) == 1.0
    assert macro_f1(REFERENCES, ["?"] * 6, labels) == 0.0


def test_classification_is_detected_only_for_small_repeated_label_sets():
    assert classification_labels(REFERENCES) == ["bird", "cat", "dog"]
    assert classification_labels([f"a long free text answer number {i}" for i in range(10)]) is None
    assert classification_labels(["one", "two", "three"]) is None  # every answer distinct
    assert classification_labels([]) is None
