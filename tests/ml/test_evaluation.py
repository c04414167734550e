"""Base vs fine-tuned evaluation on the tiny model: structure and consistency of the report."""

import json
import math

import pytest

from tests.ml.conftest import chat, write_jsonl, write_yes_no_data
from workers.ml.evaluation import EvaluationConfig, evaluate
from workers.ml.metrics import exact_match_accuracy, json_scores, mean_score, rouge_l, token_f1


def test_report_compares_base_and_fine_tuned_and_is_json(tiny_adapter, tmp_path):
    _, validation_file = write_yes_no_data(tmp_path)
    report = evaluate(EvaluationConfig(tiny_adapter, validation_file, n_samples=2, max_new_tokens=4, device="cpu"))

    assert report.n_examples == 6
    assert report.answer_kind == "labels" and report.classification and report.labels == ["no", "yes"]
    for scores in (report.base, report.fine_tuned):
        assert scores.perplexity == math.exp(scores.loss)
        assert 0.0 <= scores.token_accuracy <= 1.0
        assert 0.0 <= scores.exact_match_accuracy <= 1.0 and 0.0 <= scores.macro_f1 <= 1.0
        matrix = scores.confusion_matrix
        assert matrix["labels"] == ["no", "yes"] and sum(map(sum, matrix["matrix"])) == 6
        assert scores.json_valid_rate is None and scores.token_f1 is None  # labels are neither
    # Training lowered the loss on the answers, measured on held-out data.
    assert report.fine_tuned.loss < report.base.loss
    assert len(report.samples) == 2 and report.samples[0].reference in ("yes", "no")
    assert report.samples[0].prompt[-1]["role"] == "user"
    json.dumps(report.to_dict())


def _answers_of(report, model):
    """Every example's answer, when n_samples covers them all."""
    assert len(report.samples) == report.n_examples
    return [getattr(sample, f"{model}_answer") for sample in report.samples]


def test_free_text_answers_get_exact_match_and_similarity_from_the_same_answers(tiny_adapter, tmp_path):
    rows = [chat(f"Tell me fact {i}", f"Fact number {i} is new") for i in range(4)]
    path = write_jsonl(tmp_path / "free.jsonl", rows)
    report = evaluate(EvaluationConfig(tiny_adapter, path, n_samples=4, device="cpu"))

    assert report.answer_kind == "text" and not report.classification
    references = [sample.reference for sample in report.samples]
    for model in ("base", "fine_tuned"):
        scores, answers = getattr(report, model), _answers_of(report, model)
        assert scores.exact_match_accuracy == exact_match_accuracy(references, answers)
        assert scores.token_f1 == pytest.approx(mean_score(token_f1, references, answers))
        assert scores.rouge_l == pytest.approx(mean_score(rouge_l, references, answers))
        assert scores.macro_f1 is None and scores.confusion_matrix is None and scores.json_valid_rate is None
    assert report.n_answered == 4


def test_answers_are_scored_on_the_first_examples_that_fit_the_token_budget(tiny_adapter, tmp_path):
    rows = [chat(f"Tell me fact {i}", f"Fact number {i} is new") for i in range(6)]
    path = write_jsonl(tmp_path / "free.jsonl", rows)
    # The longest answer is 6 tokens, so each may take 6 + 4: a budget of 20 fits two.
    two = evaluate(EvaluationConfig(tiny_adapter, path, n_samples=1, max_answer_tokens=20, device="cpu"))
    assert (two.n_examples, two.n_answered, len(two.samples)) == (6, 2, 1)
    # Never fewer answers than samples: the one answer is the sample, and the scores are its own.
    one = evaluate(EvaluationConfig(tiny_adapter, path, n_samples=1, max_answer_tokens=1, device="cpu"))
    sample = one.samples[0]
    assert one.n_answered == 1 and sample.reference == "Fact number 0 is new"
    assert one.fine_tuned.token_f1 == token_f1(sample.reference, sample.fine_tuned_answer)
    assert one.base.rouge_l == rouge_l(sample.reference, sample.base_answer)


def test_json_answers_get_validity_object_match_and_per_field_accuracy(tiny_adapter, tmp_path):
    colours = ["red", "blue", "green", "black", "white"]
    objects = [{"colour": c, "coats": i % 3 + 1, "gloss": i % 2 == 0} for i, c in enumerate(colours)]
    rows = [chat(f"Paint order {i}: {o['coats']} coats of {o['colour']}", json.dumps(o)) for i, o in enumerate(objects)]
    path = write_jsonl(tmp_path / "orders.jsonl", rows)
    report = evaluate(EvaluationConfig(tiny_adapter, path, n_samples=5, device="cpu"))

    assert report.answer_kind == "json" and not report.classification
    for model in ("base", "fine_tuned"):
        scores, answers = getattr(report, model), _answers_of(report, model)
        expected = json_scores(objects, answers)
        assert list(scores.json_field_accuracy) == ["colour", "coats", "gloss"]
        assert scores.json_field_accuracy == expected.field_accuracy
        assert (scores.json_valid_rate, scores.json_object_match) == (expected.valid_rate, expected.object_match)
        assert scores.exact_match_accuracy == exact_match_accuracy([json.dumps(o) for o in objects], answers)
        assert scores.token_f1 is None and scores.macro_f1 is None  # JSON answers are not free text
    json.dumps(report.to_dict())
