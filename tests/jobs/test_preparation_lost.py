"""A job whose file validation was lost (its cpu worker killed mid-validation, or the queue down
when it was created) is validated again by the reaper, keeps exactly one hold, and is given up
with its hold released after TUNERY_MAX_ATTEMPTS."""

from datetime import timedelta

from django.utils import timezone

from tunery.billing.models import EntryKind, LedgerEntry
from tunery.jobs import runner
from tunery.jobs.models import FineTuningJob, JobStatus
from tunery.jobs.preparation_reaper import PREPARATION_TIMEOUT, requeue_unprepared


def _job_whose_preparation_is_lost(api, training_file, monkeypatch) -> FineTuningJob:
    monkeypatch.setattr("tunery.jobs.services.enqueue_preparation", lambda job: None)  # the message is gone
    body = api.post(
        "/v1/fine_tuning/jobs",
        {"model": "tiny-llama", "training_file": training_file.public_id, "hyperparameters": {"n_epochs": 1}},
        format="json",
    ).json()
    return FineTuningJob.objects.get(public_id=body["id"])


def _holds(job) -> dict:
    entries = LedgerEntry.objects.filter(organization=job.organization, kind__in=[EntryKind.HOLD, EntryKind.RELEASE])
    return {kind: entries.filter(kind=kind).count() for kind in (EntryKind.HOLD, EntryKind.RELEASE)}


def test_a_lost_validation_is_sent_again_and_the_job_goes_on(api_a, tiny_base, training_file_a, monkeypatch):
    job = _job_whose_preparation_is_lost(api_a, training_file_a, monkeypatch)
    sent = []
    monkeypatch.setattr("tunery.jobs.preparation_reaper.enqueue_preparation", sent.append)
    assert requeue_unprepared() == [] and sent == []  # a fresh job may still be validating
    later = timezone.now() + PREPARATION_TIMEOUT + timedelta(seconds=1)
    assert [j.pk for j in requeue_unprepared(now=later)] == [job.pk] and len(sent) == 1
    assert requeue_unprepared(now=later + timedelta(seconds=1)) == []  # once per timeout, not every beat
    monkeypatch.setattr("tunery.jobs.runner.enqueue_training", lambda job: None)
    runner.prepare(job.pk, job.organization_id)  # what the sent message does on a live worker
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert job.events.filter(message__startswith="File validation was interrupted", level="warn").count() == 1
    assert _holds(job) == {EntryKind.HOLD: 1, EntryKind.RELEASE: 0}  # one hold, still held for training


def test_a_validation_lost_every_time_fails_the_job_and_releases_its_hold(
    api_a, tiny_base, training_file_a, monkeypatch, settings
):
    job = _job_whose_preparation_is_lost(api_a, training_file_a, monkeypatch)
    monkeypatch.setattr("tunery.jobs.preparation_reaper.enqueue_preparation", lambda job: None)  # lost again
    now = timezone.now()
    for _ in range(settings.TUNERY_MAX_ATTEMPTS + 1):
        now += PREPARATION_TIMEOUT + timedelta(seconds=1)
        requeue_unprepared(now=now)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error["code"] == "preparation_lost"
    assert _holds(job) == {EntryKind.HOLD: 1, EntryKind.RELEASE: 1}
    assert requeue_unprepared(now=now + PREPARATION_TIMEOUT * 2) == []
