"""Base vs fine-tuned evaluation on the tiny model: structure and consistency of the report."""

import json
import math

from tests.ml.conftest import write_yes_no_data
from workers.ml.evaluation import EvaluationConfig, evaluate


def test_report_compares_base_and_fine_tuned_and_is_json(tiny_adapter, tmp_path):
    _, validation_file = write_yes_no_data(tmp_path)
    report = evaluate(EvaluationConfig(tiny_adapter, validation_file, n_samples=2, max_new_tokens=4, device="cpu"))

    assert report.n_examples == 6
    assert report.classification and report.labels == ["no", "yes"]
    for scores in (report.base, report.fine_tuned):
        assert scores.perplexity == math.exp(scores.loss)
        assert 0.0 <= scores.token_accuracy <= 1.0
        assert 0.0 <= scores.exact_match_accuracy <= 1.0 and 0.0 <= scores.macro_f1 <= 1.0
        matrix = scores.confusion_matrix
        assert matrix["labels"] == ["no", "yes"] and sum(map(sum, matrix["matrix"])) == 6
    # Training lowered the loss on the answers, measured on held-out data.
    assert report.fine_tuned.loss < report.base.loss
    assert len(report.samples) == 2 and report.samples[0].reference in ("yes", "no")
    assert report.samples[0].prompt[-1]["role"] == "user"
    json.dumps(report.to_dict())


def test_free_text_answers_get_no_classification_scores(tiny_adapter, tmp_path):
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"Tell me fact {i}"},
                {"role": "assistant", "content": f"Fact number {i} is new"},
            ]
        }
        for i in range(4)
    ]
    path = tmp_path / "free.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = evaluate(EvaluationConfig(tiny_adapter, path, n_samples=1, max_new_tokens=3, device="cpu"))
    assert not report.classification and report.fine_tuned.exact_match_accuracy is None
    assert len(report.samples) == 1
