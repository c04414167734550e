"""Jobs whose preparation was lost: the cpu worker validating their files died (killed, out of
memory), or the queue was down when the job was created, so no message exists. They would stay
in `validating_files` with their hold on the balance forever. The reaper (beat, with the
stalled-training reaper) sends the preparation again; after TUNERY_MAX_ATTEMPTS it fails the
job, which releases the hold. A second preparation of a job is harmless: only one can move it
out of `validating_files` (a conditional UPDATE)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from tunery.jobs.models import FineTuningJob, JobStatus
from tunery.jobs.services import add_event, enqueue_preparation, transition

# Longer than any preparation takes (it reads the files once and plans): a job older than this
# in validating_files has no live worker on it.
PREPARATION_TIMEOUT = timedelta(minutes=15)
RESENT = "File validation was interrupted"


def requeue_unprepared(now=None) -> list[FineTuningJob]:
    now = now or timezone.now()
    cutoff = now - PREPARATION_TIMEOUT
    handled = []
    lost = FineTuningJob.objects.filter(status=JobStatus.VALIDATING_FILES).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    for job in lost.select_related("base_model", "organization"):
        resends = job.events.filter(message__startswith=RESENT).count()
        if resends >= settings.TUNERY_MAX_ATTEMPTS:
            message = f"{RESENT} {resends} times; the job was given up and its hold released."
            error = {"code": "preparation_lost", "message": message, "param": None}
            if transition(job, JobStatus.VALIDATING_FILES, JobStatus.FAILED, finished_at=now, error=error):
                add_event(job, message, level="error")
                handled.append(job)
            continue
        # heartbeat_at marks when it was sent again, so it is sent at most once per timeout.
        if FineTuningJob.objects.filter(pk=job.pk, status=JobStatus.VALIDATING_FILES).update(heartbeat_at=now):
            add_event(job, f"{RESENT} (its worker stopped or the queue was down); validating again.", level="warn")
            enqueue_preparation(job)
            handled.append(job)
    return handled
