"""Jobs trained by a real Celery worker on the tiny model, driven by the official openai client."""

import time

import openai
import pytest

from tests.conftest import key_client, wait_for
from tests.datasets import chat_jsonl
from tunery.jobs.models import FineTuningJob


@pytest.fixture
def client_a(live_server, org_a):
    return openai.OpenAI(base_url=live_server.url + "/v1", api_key=key_client(org_a).secret, max_retries=0)


def _job_status(client, job_id):
    return client.fine_tuning.jobs.retrieve(job_id).status


def test_openai_client_fine_tunes_the_tiny_model(client_a, tiny_base, celery_worker):
    training = client_a.files.create(file=("train.jsonl", chat_jsonl(30)), purpose="fine-tune")
    wait_for(lambda: client_a.files.retrieve(training.id).status == "processed")
    job = client_a.fine_tuning.jobs.create(
        model="tiny-llama",
        training_file=training.id,
        suffix="topics",
        seed=3,
        hyperparameters={"n_epochs": 2, "batch_size": 4, "learning_rate_multiplier": 10},
    )
    done = wait_for(lambda: (j := client_a.fine_tuning.jobs.retrieve(job.id)).status in ("succeeded", "failed") and j)
    assert done.status == "succeeded", done.error
    assert done.fine_tuned_model == f"ft:tiny-llama:org-a:topics:{job.id.removeprefix('ftjob-')[:8]}"
    assert done.trained_tokens > 0 and done.result_files

    events = client_a.fine_tuning.jobs.list_events(job.id, limit=100).data
    metrics = [e for e in events if e.type == "metrics"]
    assert metrics and {"step", "train_loss", "train_mean_token_accuracy", "learning_rate", "tokens_per_second"} <= set(
        metrics[-1].data
    )
    assert any("valid_loss" in e.data for e in metrics)

    checkpoints = client_a.fine_tuning.jobs.checkpoints.list(job.id).data
    steps = [c.step_number for c in checkpoints]
    assert steps == sorted(steps, reverse=True)
    # One per epoch (27 training rows in batches of 4: 7 steps), plus each new best validation pass.
    assert {7, 14} <= set(steps) and FineTuningJob.objects.get(public_id=job.id).served_step in steps
    assert (
        checkpoints[0].fine_tuned_model_checkpoint == f"{done.fine_tuned_model}:ckpt-step-{checkpoints[0].step_number}"
    )

    assert done.fine_tuned_model in [m.id for m in client_a.models.list()]
    assert client_a.models.retrieve(done.fine_tuned_model).owned_by == "org-a"

    results = client_a.files.content(done.result_files[0]).text.splitlines()
    assert results[0].startswith("step,epoch,train_loss")

    evaluation = FineTuningJob.objects.get(public_id=job.id).evaluation
    assert {"base", "fine_tuned", "samples"} <= set(evaluation) and evaluation["fine_tuned"]["loss"] > 0


def test_cancel_while_running_takes_effect_within_10_seconds_and_keeps_checkpoints(client_a, tiny_base, celery_worker):
    training = client_a.files.create(file=("train.jsonl", chat_jsonl(40)), purpose="fine-tune")
    wait_for(lambda: client_a.files.retrieve(training.id).status == "processed")
    job = client_a.fine_tuning.jobs.create(
        model="tiny-llama", training_file=training.id, hyperparameters={"n_epochs": 50, "batch_size": 1}
    )
    wait_for(lambda: FineTuningJob.objects.get(public_id=job.id).checkpoints.exists(), timeout=180)

    asked = time.monotonic()
    client_a.fine_tuning.jobs.cancel(job.id)
    wait_for(lambda: _job_status(client_a, job.id) == "cancelled", timeout=10)
    assert time.monotonic() - asked < 10
    assert client_a.fine_tuning.jobs.checkpoints.list(job.id).data  # kept, and still listed


def test_pause_then_resume_continues_from_the_checkpoint(client_a, tiny_base, celery_worker):
    training = client_a.files.create(file=("train.jsonl", chat_jsonl(20)), purpose="fine-tune")
    wait_for(lambda: client_a.files.retrieve(training.id).status == "processed")
    job = client_a.fine_tuning.jobs.create(
        model="tiny-llama", training_file=training.id, hyperparameters={"n_epochs": 12, "batch_size": 1}
    )
    wait_for(lambda: FineTuningJob.objects.get(public_id=job.id).step >= 3, timeout=180)
    client_a.fine_tuning.jobs.pause(job.id)
    wait_for(lambda: _job_status(client_a, job.id) == "paused", timeout=20)
    paused_at = FineTuningJob.objects.get(public_id=job.id).step
    client_a.fine_tuning.jobs.resume(job.id)
    wait_for(lambda: _job_status(client_a, job.id) == "succeeded", timeout=300)
    messages = [e.message for e in client_a.fine_tuning.jobs.list_events(job.id, limit=100).data]
    assert any("resumed from the last checkpoint" in m for m in messages), messages
    assert any(f"Job paused at step {paused_at}" in m for m in messages)


def test_the_same_task_delivered_twice_trains_once(api_a, tiny_base, training_file_a, transactional_db):
    from tunery.jobs import runner

    body = api_a.post(
        "/v1/fine_tuning/jobs",
        {"model": "tiny-llama", "training_file": training_file_a.public_id, "hyperparameters": {"n_epochs": 1}},
        format="json",
    ).json()
    job = FineTuningJob.objects.get(public_id=body["id"])
    runner.prepare(job.pk, job.organization_id)
    runner.train(job.pk, job.organization_id)
    runner.train(job.pk, job.organization_id)  # the redelivered message
    job.refresh_from_db()
    assert job.status == "succeeded" and job.attempts == 1
    assert job.events.filter(message__startswith="Training started").count() == 1
    # The auto learning rate is chosen when training starts, and the job shows what was used.
    resolved = job.resolved_hyperparameters
    assert resolved["answer_familiarity"] is not None
    assert (
        api_a.get(f"/v1/fine_tuning/jobs/{job.public_id}").json()["hyperparameters"]["learning_rate_multiplier"]
        == resolved["learning_rate_multiplier"]
    )
