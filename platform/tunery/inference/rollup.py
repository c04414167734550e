"""Rolls the raw inference requests of each ended UTC day up into UsageRollup rows, so the usage
report reads a few hundred rows for a month instead of every request (usage.py).

A day is rolled up once it ended GRACE ago: a request is stamped when its row is written, just
after its answer (metering.py), so no row can arrive for a day after that. A day is rolled up
whole, in one transaction with its RolledUpDay marker, by one run: another run at the same time
waits on the marker's unique day and then leaves that day alone.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from tunery.inference.models import InferenceRequest, RolledUpDay, UsageRollup
from tunery.inference.usage import day_start, raw_cells

GRACE = timedelta(minutes=10)


def roll_up_usage(now=None) -> int:
    """Roll up every ended day not rolled up yet; returns how many days were."""
    last_day = ((now or timezone.now()) - GRACE).date() - timedelta(days=1)
    first = InferenceRequest.objects.order_by("created_at").values_list("created_at", flat=True).first()
    if first is None:
        return 0
    day = first.date()
    done = set(RolledUpDay.objects.filter(day__gte=day).values_list("day", flat=True))
    rolled = 0
    while day <= last_day:
        if day not in done and _roll_up(day):
            rolled += 1
        day += timedelta(days=1)
    return rolled


def _roll_up(day) -> bool:
    with transaction.atomic():
        try:
            with transaction.atomic():
                RolledUpDay.objects.create(day=day)
        except IntegrityError:
            return False  # another run has it
        requests = InferenceRequest.objects.filter(
            created_at__gte=day_start(day), created_at__lt=day_start(day + timedelta(days=1))
        )
        UsageRollup.objects.bulk_create(
            UsageRollup(
                organization_id=organization_id,
                day=day,
                model=model,
                api_key_id=key_id,
                requests=cell.requests,
                prompt_tokens=cell.prompt_tokens,
                completion_tokens=cell.completion_tokens,
                latency_buckets={str(index): count for index, count in sorted(cell.buckets.items())},
            )
            for (organization_id, _, model, key_id), cell in raw_cells(requests).items()
        )
    return True
