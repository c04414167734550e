"""Answer-level metrics on inputs small enough to check by hand."""

import pytest

from workers.ml.metrics import (
    OTHER,
    answer_correct,
    classification_labels,
    confusion_matrix,
    exact_match_accuracy,
    json_references,
    json_scores,
    macro_f1,
    mean_score,
    parse_json_object,
    rouge_l,
    token_f1,
)

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


ORDERS = [
    {"name": "Ada", "item": "lamp", "quantity": 2, "gift": False},
    {"name": "Bo", "item": "desk", "quantity": 1, "gift": True},
    {"name": "Cy", "item": "chair", "quantity": 4},
    {"name": "Di", "item": "rug", "quantity": 3, "gift": False},
]
ORDER_ANSWERS = [
    '{"item": "lamp", "name": "Ada", "quantity": 2.0, "gift": false}',  # same object: key order, 2 == 2.0
    '{"name": "Bo", "item": "desk", "quantity": 1, "gift": 1}',  # 1 is not true
    '{"name": "cy", "item": "chair", "quantity": 4}',  # the name's case differs
    'Sure! {"name": "Di"}',  # not JSON
]


def test_json_references_are_found_only_when_every_answer_is_an_object():
    assert json_references(['{"a": 1}', ' {"b": [2]}\n']) == [{"a": 1}, {"b": [2]}]
    assert json_references(['{"a": 1}', "a"]) is None
    assert json_references(["[1, 2]", "3"]) is None  # JSON, but not objects
    assert json_references([]) is None
    assert parse_json_object('{"a": 1') is None and parse_json_object("null") is None


def test_json_validity_object_match_and_per_field_accuracy_by_hand():
    scores = json_scores(ORDERS, ORDER_ANSWERS)
    assert scores.valid_rate == 3 / 4
    assert scores.object_match == 1 / 4
    assert scores.field_accuracy == {
        "name": 2 / 4,  # Ada, Bo right; "cy" wrong; invalid JSON counts as wrong
        "item": 3 / 4,
        "quantity": 3 / 4,
        "gift": 1 / 3,  # only 3 references have the key; 1 is not false/true
    }
    assert list(scores.field_accuracy) == ["name", "item", "quantity", "gift"]  # most frequent first


def test_a_missing_field_is_wrong_and_an_extra_one_spoils_only_the_whole_object():
    scores = json_scores([{"a": 1, "b": 2}], ['{"a": 1, "c": 3}'])
    assert scores.field_accuracy == {"a": 1.0, "b": 0.0} and scores.object_match == 0.0
    assert json_scores([{"a": 1}], ['{"a": 1, "c": 3}']).field_accuracy == {"a": 1.0}


def test_token_f1_by_hand():
    # Common words, with multiplicity: "the", "cat" -> P = 2/3, R = 2/4, F1 = 4/7.
    assert token_f1("The cat sat, the end", "the cat purred") == pytest.approx(2 * 2 / (3 + 5))
    assert token_f1("The cat sat.", "the CAT sat") == 1.0  # case and punctuation ignored
    assert token_f1("", "") == 1.0 and token_f1("cat", "") == 0.0


def test_rouge_l_counts_word_order_where_token_f1_does_not():
    assert token_f1("a b c d", "d c b a") == 1.0
    assert rouge_l("a b c d", "d c b a") == pytest.approx(2 * 1 / 8)  # longest common subsequence: one word
    assert rouge_l("a b c d", "a x c d") == pytest.approx(2 * 3 / 8)  # a, c, d
    assert rouge_l("the cat sat on the mat", "the cat on the mat") == pytest.approx(2 * 5 / 11)
    assert rouge_l("", "") == 1.0 and rouge_l("a", "") == 0.0


def test_mean_score_over_examples():
    assert mean_score(token_f1, ["a b", "c"], ["a b", "d"]) == pytest.approx(0.5)
    assert mean_score(rouge_l, [], []) == 0.0


def test_one_answer_is_right_by_exact_match_or_for_json_by_equal_object():
    assert answer_correct("Paris", " paris.") and not answer_correct("Paris", "Paris, France")
    assert answer_correct('{"a": 1, "b": true}', '{"b": true, "a": 1.0}')
    assert not answer_correct('{"a": 1, "b": true}', '{"a": 1, "b": 1}')  # true is not 1
    assert not answer_correct('{"name": "Bob"}', '{"name": "bob"}')  # values keep their case
    assert not answer_correct('{"a": 1}', "a: 1")
