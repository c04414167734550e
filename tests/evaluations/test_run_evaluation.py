"""An evaluation run end to end on the tiny model: created through the API, run as the GPU task
would run it, read back with every model's metrics, confidence, cost and wrong answers."""

from decimal import Decimal

import pytest

from tests.evaluations.conftest import create, run_here
from tunery.billing import ledger
from tunery.billing.models import EntryKind, LedgerEntry
from tunery.evaluations.models import EvaluationRun
from workers.ml.metrics import normalize_answer


def test_base_fine_tuned_and_checkpoint_are_scored_side_by_side(api_a, org_a, test_file_a, three_models):
    response = create(api_a, test_file_a, three_models, max_examples=10)
    assert response.status_code == 200, response.json()
    created = response.json()
    assert created["id"].startswith("evalrun-") and created["object"] == "evaluation"
    assert created["status"] == "queued" and created["progress"] == 0 and created["results"] is None
    assert created["models"] == three_models and created["base_model"] == "tiny-llama"
    assert Decimal(created["estimated_cost"]) > 0 and created["cost"] is None
    assert ledger.held(org_a) == Decimal(created["estimated_cost"])

    run_here(EvaluationRun.objects.get(public_id=created["id"]))
    body = api_a.get(f"/v1/evaluations/{created['id']}").json()
    assert body["status"] == "succeeded" and body["progress"] == 1 and body["error"] is None
    assert body["started_at"] and body["finished_at"]
    results = body["results"]
    assert results["n_examples"] == results["n_answered"] == 10
    assert results["answer_kind"] == "labels" and results["labels"] == ["blick", "quax", "zorp"]
    assert results["main_metric"] == "exact_match"
    assert [m["model"] for m in results["models"]] == three_models
    assert [m["kind"] for m in results["models"]] == ["base", "fine_tuned", "checkpoint"]
    for model in results["models"]:
        metrics = model["metrics"]
        assert model["answer_score"] == metrics["exact_match_accuracy"]
        assert 0 <= metrics["macro_f1"] <= 1 and sum(map(sum, metrics["confusion_matrix"]["matrix"])) == 10
        assert model["n_correct"] + model["n_wrong"] == 10
        assert model["n_correct"] == round(10 * metrics["exact_match_accuracy"])
        usage = model["usage"]
        assert usage["prompt_tokens"] > 10 and usage["completion_tokens"] >= 10
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
        assert Decimal(model["cost"]) > 0
    # Every model read the same prompts; only their answers differ.
    assert len({m["usage"]["prompt_tokens"] for m in results["models"]}) == 1
    # What training the fine-tuned model (and so its checkpoint) cost, beside the evaluation's cost.
    base, tuned, checkpoint = results["models"]
    assert base["training_cost"] is None and base["fine_tuning_job"] is None
    assert Decimal(tuned["training_cost"]) == ledger.job_charge(tuned_job(tuned)) > 0
    assert checkpoint["training_cost"] == tuned["training_cost"]


def tuned_job(model: dict):
    from tunery.jobs.models import FineTuningJob

    return FineTuningJob.objects.get(public_id=model["fine_tuning_job"])


def test_label_confidence_is_a_probability_consistent_with_each_answer(finished_run):
    labels = finished_run.results["labels"]
    for model in finished_run.results["models"]:
        confidence = model["confidence"]
        assert 1 / len(labels) <= confidence["mean_confidence"] <= 1
        assert 0 <= confidence["top_label_accuracy"] <= 1 and 0 <= confidence["mean_reference_probability"] <= 1
        for example in model["wrong_examples"]:
            probabilities = example["label_probabilities"]
            assert sorted(probabilities) == labels and sum(probabilities.values()) == pytest.approx(1, abs=1e-3)
            assert example["top_label"] == max(probabilities, key=probabilities.get)
            assert example["confidence"] == probabilities[example["top_label"]]


def test_each_model_lists_the_examples_it_got_wrong(finished_run):
    for model in finished_run.results["models"]:
        wrong = model["wrong_examples"]
        assert len(wrong) == model["n_wrong"]  # 12 examples: fewer than the 50 kept
        for example in wrong:
            assert normalize_answer(example["expected"]) != normalize_answer(example["answer"])
            assert example["prompt"][-1]["role"] == "user" and example["line"] == example["index"] + 1
            assert example["expected"] in ("zorp", "blick", "quax")


def test_the_organization_is_charged_what_the_models_used_once(api_a, org_a, finished_run):
    costs = [Decimal(m["cost"]) for m in finished_run.results["models"]]
    charge = LedgerEntry.objects.get(organization=org_a, kind=EntryKind.EVALUATION_CHARGE)
    assert charge.amount == -sum(costs) == -finished_run.cost < 0
    assert charge.tokens == finished_run.prompt_tokens + finished_run.completion_tokens
    assert finished_run.charge_entry == charge and finished_run.public_id in charge.description
    assert ledger.held(org_a) == 0  # the estimate's hold is released
    body = api_a.get(f"/v1/evaluations/{finished_run.public_id}").json()
    assert Decimal(body["cost"]) == sum(costs) and body["usage"]["total_tokens"] == charge.tokens
    kinds = [e["kind"] for e in api_a.get("/v1/organization/billing/ledger").json()["data"]]
    assert kinds[:3] == ["evaluation_charge", "release", "hold"]

    run_here(finished_run)  # a redelivered message finds nothing to claim
    assert LedgerEntry.objects.filter(organization=org_a, kind=EntryKind.EVALUATION_CHARGE).count() == 1
    assert finished_run.status == "succeeded" and finished_run.attempts == 1


def test_a_model_deleted_before_the_run_starts_fails_it_without_charge(api_a, org_a, test_file_a, three_models):
    run = EvaluationRun.objects.get(public_id=create(api_a, test_file_a, three_models).json()["id"])
    assert api_a.delete(f"/v1/models/{three_models[1]}").status_code == 200
    run = run_here(run)
    assert run.status == "failed" and run.error["code"] == "model_not_found" and run.error["param"] == "models[1]"
    assert ledger.held(org_a) == 0 and run.cost == 0
    assert not LedgerEntry.objects.filter(kind=EntryKind.EVALUATION_CHARGE).exists()
