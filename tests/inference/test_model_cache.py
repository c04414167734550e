"""The gateway remembers which model a name means per organization for MODEL_CACHE_SECONDS:
no database look-up per call, a deleted model refused at once when deleted through this process
and within the bound when another process deleted it, and never one organization's answer for
another."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tunery.files.models import File
from tunery.inference import model_cache
from tunery.jobs.models import FineTuningJob, JobStatus


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(model_cache, "_clock", lambda: now[0])
    model_cache.forget_all()
    return now


@pytest.fixture
def tuned_a(org_a, embedded_base):
    training = File.objects.create(
        organization=org_a, filename="t.jsonl", content="t.jsonl", bytes=1, purpose="fine-tune", status="processed"
    )
    job = FineTuningJob.objects.create(
        organization=org_a,
        base_model=embedded_base,
        model=embedded_base.name,
        training_file=training,
        suffix="cache",
        seed=1,
        hyperparameters={},
        status=JobStatus.SUCCEEDED,
        finished_at=timezone.now(),
    )
    job.fine_tuned_model = job.model_name
    job.save()
    return job


def _queries(organization, name) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as queries:
        resolved = model_cache.resolve(organization, name)
    return resolved, len(queries.captured_queries)


def test_a_model_is_looked_up_once_then_remembered(org_a, tuned_a, clock):
    resolved, queries = _queries(org_a, tuned_a.fine_tuned_model)
    assert resolved.job == tuned_a and queries >= 1
    assert _queries(org_a, tuned_a.fine_tuned_model) == (resolved, 0)


def test_another_organization_never_gets_the_remembered_model(org_a, org_b, tuned_a, clock):
    assert model_cache.resolve(org_a, tuned_a.fine_tuned_model) is not None
    assert model_cache.resolve(org_b, tuned_a.fine_tuned_model) is None


def test_a_model_deleted_through_the_api_is_refused_at_once(org_a, tuned_a, clock, api_a):
    assert model_cache.resolve(org_a, tuned_a.fine_tuned_model) is not None
    assert api_a.delete(f"/v1/models/{tuned_a.fine_tuned_model}").status_code == 200
    assert model_cache.resolve(org_a, tuned_a.fine_tuned_model) is None


def test_a_model_deleted_elsewhere_is_refused_within_the_bound(org_a, tuned_a, clock):
    assert model_cache.resolve(org_a, tuned_a.fine_tuned_model) is not None
    FineTuningJob.objects.filter(pk=tuned_a.pk).update(model_deleted=True)  # another process, no signal here
    clock[0] += model_cache.MODEL_CACHE_SECONDS - 1
    assert model_cache.resolve(org_a, tuned_a.fine_tuned_model) is not None
    clock[0] += 2
    assert model_cache.resolve(org_a, tuned_a.fine_tuned_model) is None


def test_a_base_model_disabled_here_is_refused_at_once(org_a, embedded_base, clock):
    assert model_cache.resolve(org_a, embedded_base.name) is not None
    embedded_base.enabled = False
    embedded_base.save()
    assert model_cache.resolve(org_a, embedded_base.name) is None


def test_a_name_not_found_is_not_remembered(org_a, tuned_a, clock):
    FineTuningJob.objects.filter(pk=tuned_a.pk).update(status=JobStatus.RUNNING)
    assert model_cache.resolve(org_a, tuned_a.fine_tuned_model) is None
    FineTuningJob.objects.filter(pk=tuned_a.pk).update(status=JobStatus.SUCCEEDED)  # it succeeds
    assert model_cache.resolve(org_a, tuned_a.fine_tuned_model) is not None
