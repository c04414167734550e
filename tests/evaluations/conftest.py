"""Evaluation fixtures: a test file, the three kinds of models (base, fine-tuned, checkpoint)
of one trained tiny job, and a run created through the API and run in this thread."""

import pytest

from tests.datasets import chat_jsonl
from tests.files.helpers import upload_and_inspect
from tunery.evaluations import runner
from tunery.evaluations.models import EvaluationRun


@pytest.fixture
def test_file_a(api_a):
    return upload_and_inspect(api_a, "test.jsonl", chat_jsonl(12))


@pytest.fixture
def three_models(succeeded_job) -> list[str]:
    checkpoint = succeeded_job.checkpoints.order_by("step").first()
    assert checkpoint is not None, "the tiny job keeps its checkpoints"
    return ["tiny-llama", succeeded_job.fine_tuned_model, checkpoint.model_name]


def create(api, test_file, models, **extra):
    return api.post("/v1/evaluations", {"test_file": test_file.public_id, "models": models, **extra}, format="json")


def run_here(run: EvaluationRun) -> EvaluationRun:
    """The GPU task's work, in this thread (the test's transaction never commits, so the queued
    message would not see the row)."""
    runner.run(run.pk, run.organization_id)
    run.refresh_from_db()
    return run


@pytest.fixture
def finished_run(api_a, test_file_a, three_models) -> EvaluationRun:
    response = create(api_a, test_file_a, three_models)
    assert response.status_code == 200, response.json()
    run = run_here(EvaluationRun.objects.get(public_id=response.json()["id"]))
    assert run.status == "succeeded", run.error
    return run
