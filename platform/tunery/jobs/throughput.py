"""How fast training has really been, for estimates of how long the next job takes."""

from django.db.models import F, Sum

from tunery.jobs.models import FineTuningJob, JobStatus


def training_throughput(base_model, recent: int = 20) -> float | None:
    """Tokens per second over the last finished jobs on this base model (wall time from start
    to finish, so evaluation and checkpointing are included, as the user waits for them)."""
    jobs = FineTuningJob.objects.filter(
        base_model=base_model, status=JobStatus.SUCCEEDED, trained_tokens__gt=0, started_at__isnull=False
    ).order_by("-finished_at")[:recent]
    totals = FineTuningJob.objects.filter(pk__in=jobs.values("pk")).aggregate(
        tokens=Sum("trained_tokens"), time=Sum(F("finished_at") - F("started_at"))
    )
    if not totals["tokens"] or not totals["time"] or totals["time"].total_seconds() <= 0:
        return None
    return totals["tokens"] / totals["time"].total_seconds()
