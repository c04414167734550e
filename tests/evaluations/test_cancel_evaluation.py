"""Cancelling an evaluation: at once while queued, at the worker's next batch while running
(charged for the tokens used until then), and never once it has ended."""

from decimal import Decimal

from tests.evaluations.conftest import create, run_here
from tunery.billing import ledger
from tunery.billing.models import EntryKind, LedgerEntry
from tunery.evaluations import services
from tunery.evaluations.models import EvaluationRun


def test_a_queued_evaluation_is_cancelled_at_once_and_its_hold_released(api_a, org_a, tiny_base, test_file_a):
    run_id = create(api_a, test_file_a, ["tiny-llama"]).json()["id"]
    body = api_a.post(f"/v1/evaluations/{run_id}/cancel").json()
    assert body["status"] == "cancelled" and body["finished_at"] and body["cost"] == "0.000000"
    assert ledger.held(org_a) == 0 and not LedgerEntry.objects.filter(kind=EntryKind.EVALUATION_CHARGE).exists()
    run = run_here(EvaluationRun.objects.get(public_id=run_id))  # its queued message then finds nothing to do
    assert run.status == "cancelled" and run.results is None


def test_a_running_evaluation_stops_between_batches_and_pays_for_what_it_used(
    api_a, org_a, test_file_a, three_models, monkeypatch
):
    run_id = create(api_a, test_file_a, three_models).json()["id"]
    monkeypatch.setattr("tunery.evaluations.runner.WRITE_EVERY_SECONDS", 0)
    touch, answers = services.touch, []

    def cancel_halfway(run, progress):  # the user presses Cancel while the worker runs
        if progress >= 0.5 and not answers:
            answers.append(api_a.post(f"/v1/evaluations/{run_id}/cancel").json())
        return touch(run, progress)

    monkeypatch.setattr("tunery.evaluations.services.touch", cancel_halfway)
    run = run_here(EvaluationRun.objects.get(public_id=run_id))
    assert answers[0]["status"] == "running"  # the API answers at once; the worker stops soon after
    assert run.status == "cancelled" and run.results is None and 0.5 <= run.progress < 1
    assert run.completion_tokens > 0 and run.cost > 0  # the base model had answered
    charge = LedgerEntry.objects.get(kind=EntryKind.EVALUATION_CHARGE)
    assert charge.amount == -run.cost and "(cancelled)" in charge.description
    assert ledger.held(org_a) == 0
    assert Decimal(api_a.get(f"/v1/evaluations/{run_id}").json()["cost"]) == run.cost


def test_an_ended_evaluation_cannot_be_cancelled(api_a, finished_run):
    response = api_a.post(f"/v1/evaluations/{finished_run.public_id}/cancel")
    assert response.status_code == 409 and response.json()["error"]["code"] == "invalid_state"
