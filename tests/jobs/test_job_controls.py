"""Cancel, pause and resume outside training; the reaper; duplicate delivery; tenancy."""

import pytest
from django.utils import timezone

from tunery.jobs import runner
from tunery.jobs.models import FineTuningJob, JobStatus
from tunery.jobs.services import requeue_stalled


@pytest.fixture
def job_a(api_a, tiny_base, training_file_a):
    body = api_a.post(
        "/v1/fine_tuning/jobs", {"model": "tiny-llama", "training_file": training_file_a.public_id}, format="json"
    ).json()
    return FineTuningJob.objects.get(public_id=body["id"])


def test_cancel_before_training_is_immediate(api_a, job_a):
    body = api_a.post(f"/v1/fine_tuning/jobs/{job_a.public_id}/cancel").json()
    assert body["status"] == "cancelled" and body["finished_at"]
    runner.prepare(job_a.pk, job_a.organization_id)  # the queued message finds nothing to do
    job_a.refresh_from_db()
    assert job_a.status == "cancelled"


def test_cancelling_a_finished_job_is_409(api_a, job_a):
    FineTuningJob.objects.filter(pk=job_a.pk).update(status=JobStatus.SUCCEEDED)
    response = api_a.post(f"/v1/fine_tuning/jobs/{job_a.public_id}/cancel")
    assert response.status_code == 409 and response.json()["error"]["code"] == "invalid_state"


def test_resume_needs_a_paused_job(api_a, job_a):
    assert api_a.post(f"/v1/fine_tuning/jobs/{job_a.public_id}/resume").status_code == 409


def test_prepare_resolves_auto_and_queues(job_a, monkeypatch):
    queued = []
    monkeypatch.setattr("tunery.jobs.runner.enqueue_training", queued.append)
    runner.prepare(job_a.pk, job_a.organization_id)
    job_a.refresh_from_db()
    assert job_a.status == "queued" and queued == [job_a]
    assert job_a.resolved_hyperparameters["n_epochs"] >= 1 and job_a.total_steps > 0
    messages = list(job_a.events.values_list("message", flat=True))
    assert any("held out 3 of 30 examples" in m for m in messages)
    assert any(m.startswith("Files validated: 27 training examples") for m in messages)


def test_reaper_requeues_a_job_whose_worker_went_silent(job_a, monkeypatch, settings):
    queued = []
    monkeypatch.setattr("tunery.jobs.services.enqueue_training", queued.append)
    stale = timezone.now() - timezone.timedelta(seconds=settings.TUNERY_HEARTBEAT_TIMEOUT + 5)
    FineTuningJob.objects.filter(pk=job_a.pk).update(status=JobStatus.RUNNING, heartbeat_at=stale, attempts=1, step=4)
    assert requeue_stalled() == [job_a]
    job_a.refresh_from_db()
    assert job_a.status == "queued" and len(queued) == 1
    assert "resumes from its last checkpoint" in job_a.events.first().message


def test_reaper_gives_up_after_too_many_attempts(job_a, settings):
    stale = timezone.now() - timezone.timedelta(seconds=settings.TUNERY_HEARTBEAT_TIMEOUT + 5)
    FineTuningJob.objects.filter(pk=job_a.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=stale, attempts=settings.TUNERY_MAX_ATTEMPTS
    )
    requeue_stalled()
    job_a.refresh_from_db()
    assert job_a.status == "failed" and job_a.error["code"] == "worker_lost"


def test_list_filters_by_metadata_and_paginates(api_a, tiny_base, training_file_a):
    for n in range(3):
        api_a.post(
            "/v1/fine_tuning/jobs",
            {"model": "tiny-llama", "training_file": training_file_a.public_id, "metadata": {"run": str(n)}},
            format="json",
        )
    assert [j["metadata"]["run"] for j in api_a.get("/v1/fine_tuning/jobs", {"metadata[run]": "1"}).json()["data"]] == [
        "1"
    ]
    page = api_a.get("/v1/fine_tuning/jobs", {"limit": 2}).json()
    assert page["has_more"] and len(page["data"]) == 2


@pytest.mark.parametrize(
    "method, suffix",
    [
        ("get", ""),
        ("post", "/cancel"),
        ("post", "/pause"),
        ("post", "/resume"),
        ("get", "/events"),
        ("get", "/checkpoints"),
    ],
)
def test_another_organization_gets_404(api_b, job_a, method, suffix):
    response = getattr(api_b, method)(f"/v1/fine_tuning/jobs/{job_a.public_id}{suffix}")
    assert response.status_code == 404
    job_a.refresh_from_db()
    assert job_a.status == "validating_files"
