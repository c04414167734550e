import pytest

from tests.datasets import chat_jsonl
from tests.files.helpers import upload_and_inspect


@pytest.fixture
def training_file_a(api_a):
    return upload_and_inspect(api_a, "train.jsonl", chat_jsonl(30))


def run_job_here(api, training_file, **hyperparameters):
    """Create a job and run its cpu and gpu tasks in this thread (tiny model: seconds)."""
    from tunery.jobs import runner
    from tunery.jobs.models import FineTuningJob

    body = api.post("/v1/fine_tuning/jobs", {"model": "tiny-llama", "training_file": training_file.public_id, "suffix": "demo",
                                            "hyperparameters": {"n_epochs": 1, **hyperparameters}}, format="json").json()
    job = FineTuningJob.objects.get(public_id=body["id"])
    runner.prepare(job.pk, job.organization_id)
    runner.train(job.pk, job.organization_id)
    job.refresh_from_db()
    return job


@pytest.fixture
def succeeded_job(api_a, tiny_base, training_file_a, monkeypatch):
    monkeypatch.setattr("tunery.jobs.runner.enqueue_training", lambda job: None)
    job = run_job_here(api_a, training_file_a)
    assert job.status == "succeeded", job.error
    return job
