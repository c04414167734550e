"""The evaluation as the job API and the job page show it: answer-level scores for every kind of
answer, and a plain caveat when the examples were held out of the training file."""

import json

from django.template.loader import render_to_string

from tests.conftest import run_job_here, signed_in
from tests.files.helpers import upload_and_inspect

CAVEAT_START = "In-distribution: expect lower on new data."


def _order_rows(n: int) -> bytes:
    orders = [
        {"item": item, "quantity": i % 3 + 1}
        for i, item in enumerate(["lamp", "desk", "chair", "rug", "vase", "sofa"] * n)
    ][:n]
    return "".join(
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"{o['quantity']} x {o['item']}, please"},
                    {"role": "assistant", "content": json.dumps(o)},
                ]
            }
        )
        + "\n"
        for o in orders
    ).encode()


def test_a_held_out_evaluation_says_it_is_in_distribution_in_the_api_and_on_the_page(
    client, owner_a, api_a, succeeded_job
):
    evaluation = api_a.get(f"/v1/fine_tuning/jobs/{succeeded_job.public_id}").json()["evaluation"]
    assert evaluation["validation_source"] == "training_file"
    assert evaluation["caveat"].startswith(CAVEAT_START) and "separate validation file" in evaluation["caveat"]
    assert evaluation["n_examples"] == 3  # 10 % of 30: three distinct one-word answers
    assert (
        evaluation["fine_tuned"]["exact_match_accuracy"] is not None
        and evaluation["base"]["exact_match_accuracy"] is not None
    )
    assert succeeded_job.events.filter(level="warn", message__startswith=CAVEAT_START).exists()

    page = signed_in(client, owner_a).get(f"/fine-tuning/{succeeded_job.public_id}").content.decode()
    assert 'id="in-distribution"' in page and CAVEAT_START in page and "held out of the training file" in page
    assert 'id="tuned-accuracy"' in page


def test_a_separate_validation_file_has_no_caveat_and_json_answers_get_per_field_scores(
    client, owner_a, api_a, tiny_base, training_file_a, monkeypatch
):
    monkeypatch.setattr("tunery.jobs.runner.enqueue_training", lambda job: None)
    job = run_job_here(api_a, training_file_a, upload_and_inspect(api_a, "orders.jsonl", _order_rows(10)))
    assert job.status == "succeeded", job.error

    evaluation = api_a.get(f"/v1/fine_tuning/jobs/{job.public_id}").json()["evaluation"]
    assert evaluation["validation_source"] == "validation_file" and evaluation["caveat"] is None
    assert evaluation["answer_kind"] == "json" and evaluation["n_examples"] == 10
    for model in ("base", "fine_tuned"):
        scores = evaluation[model]
        assert list(scores["json_field_accuracy"]) == ["item", "quantity"]
        assert (
            0.0 <= scores["json_valid_rate"] <= 1.0 and 0.0 <= scores["json_object_match"] <= scores["json_valid_rate"]
        )
        assert scores["exact_match_accuracy"] is not None and scores["token_f1"] is None

    page = signed_in(client, owner_a).get(f"/fine-tuning/{job.public_id}").content.decode()
    assert 'id="in-distribution"' not in page and "from your validation file" in page
    assert (
        'id="tuned-json-valid"' in page
        and "Field <code>item</code> right" in page
        and "Field <code>quantity</code> right" in page
    )


def test_free_text_scores_are_shown_side_by_side():
    scores = {
        "loss": 1.0,
        "perplexity": 2.7,
        "token_accuracy": 0.5,
        "exact_match_accuracy": 0.25,
        "token_f1": 0.5,
        "rouge_l": 0.375,
    }
    evaluation = {
        "n_examples": 4,
        "answer_kind": "text",
        "classification": False,
        "validation_source": "validation_file",
        "base": {**scores, "exact_match_accuracy": 0.0, "token_f1": 0.125},
        "fine_tuned": scores,
        "samples": [],
    }
    html = render_to_string("jobs/_evaluation.html", {"evaluation": evaluation})
    assert "Word F1" in html and '<td id="tuned-token-f1">0.500</td>' in html and "ROUGE-L" in html and "0.375" in html
    assert "<td>0.0%</td>" in html and '<td id="tuned-accuracy">25.0%</td>' in html
    assert "Macro F1" not in html and "Valid JSON object" not in html and 'id="in-distribution"' not in html
