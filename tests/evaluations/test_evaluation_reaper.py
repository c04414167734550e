"""A worker that dies mid-evaluation: its heartbeat goes stale and the reaper queues the run
again, or gives it up (charged nothing) after too many attempts."""

from django.utils import timezone

from tests.evaluations.conftest import create
from tunery.billing import ledger
from tunery.evaluations.models import EvaluationRun
from tunery.evaluations.services import requeue_stalled


def _stalled(api_a, test_file_a, settings, attempts: int) -> EvaluationRun:
    run = EvaluationRun.objects.get(public_id=create(api_a, test_file_a, ["tiny-llama"]).json()["id"])
    stale = timezone.now() - timezone.timedelta(seconds=settings.TUNERY_HEARTBEAT_TIMEOUT + 5)
    EvaluationRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=stale, attempts=attempts)
    return run


def test_a_silent_worker_s_evaluation_is_queued_again(api_a, tiny_base, test_file_a, settings, monkeypatch):
    queued = []
    monkeypatch.setattr("tunery.evaluations.services.enqueue", queued.append)
    run = _stalled(api_a, test_file_a, settings, attempts=1)
    fresh = EvaluationRun.objects.get(public_id=create(api_a, test_file_a, ["tiny-llama"]).json()["id"])
    EvaluationRun.objects.filter(pk=fresh.pk).update(status="running", heartbeat_at=timezone.now())
    assert requeue_stalled() == [run] and queued == [run]
    run.refresh_from_db()
    assert run.status == "queued" and run.progress == 0


def test_it_is_given_up_after_too_many_attempts_and_charged_nothing(api_a, org_a, tiny_base, test_file_a, settings):
    run = _stalled(api_a, test_file_a, settings, attempts=settings.TUNERY_MAX_ATTEMPTS)
    assert requeue_stalled() == [run]
    run.refresh_from_db()
    assert run.status == "failed" and run.error["code"] == "worker_lost" and run.cost == 0
    assert ledger.held(org_a) == 0
