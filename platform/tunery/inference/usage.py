"""Usage of an organization's models: requests, tokens and latency by day, model and key."""

import math
import re
from collections import defaultdict
from datetime import timedelta

from django.db import connection
from django.db.models import Aggregate, Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from tunery.apikeys.models import ApiKey
from tunery.inference.models import InferenceRequest
from tunery.orgs.tenancy import scoped

DAYS_RANGE = (1, 365)
PERCENTILES = {"p50_ms": 0.5, "p95_ms": 0.95}
_ASCII_INTEGER = re.compile(r"[0-9]{1,3}")


def parse_days(raw: str) -> int:
    """The `days` query parameter: ASCII digits from 1 to 365. Not `str.isdigit` / `int`,
    which take '²' and '١٢' (then int() raises, or a Unicode digit is read as a number)."""
    if not _ASCII_INTEGER.fullmatch(raw) or not DAYS_RANGE[0] <= int(raw) <= DAYS_RANGE[1]:
        raise ValueError(f"days must be a whole number from {DAYS_RANGE[0]} to {DAYS_RANGE[1]}.")
    return int(raw)


class PercentileDisc(Aggregate):
    """PostgreSQL's ordered-set aggregate `percentile_disc(f) WITHIN GROUP (ORDER BY x)`: the
    first value whose cumulative share reaches `f` — a latency some request really had, in
    whole milliseconds (percentile_cont would interpolate between two). Computed by the
    database, so no latency row travels to Python."""

    function = "PERCENTILE_DISC"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, percentile: float, **extra):
        if not 0 <= percentile <= 1:
            raise ValueError("percentile must be within [0, 1]")
        super().__init__(expression, percentile=float(percentile), **extra)


def percentile_disc(values: list[int], fraction: float) -> int | None:
    """The same definition in Python, for SQLite (the embedded default), which has no ordered-set
    aggregates: the value at rank ceil(f·n), in double precision as PostgreSQL computes it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def _grouped(requests, group: str) -> list[dict]:
    """Requests, tokens and latency percentiles per value of `group`, busiest first: one query
    on PostgreSQL; on SQLite the percentiles come from a second pass in Python."""
    in_database = connection.vendor == "postgresql"
    aggregates = {
        "requests": Count("id"),
        "prompt_tokens": Sum("prompt_tokens"),
        "completion_tokens": Sum("completion_tokens"),
    }
    if in_database:
        aggregates |= {name: PercentileDisc("latency_ms", fraction) for name, fraction in PERCENTILES.items()}
    rows = list(requests.values(group).annotate(**aggregates).order_by("-requests", group))
    if not in_database:
        latencies = defaultdict(list)
        for key, latency in requests.values_list(group, "latency_ms").iterator():
            latencies[key].append(latency)
        for row in rows:
            row |= {name: percentile_disc(latencies[row[group]], fraction) for name, fraction in PERCENTILES.items()}
    for row in rows:
        row["prompt_tokens"] = row["prompt_tokens"] or 0
        row["completion_tokens"] = row["completion_tokens"] or 0
    return rows


def usage_report(organization, days: int = 30) -> dict:
    since = timezone.now() - timedelta(days=days)
    requests = scoped(InferenceRequest, organization).filter(created_at__gte=since).order_by()
    by_day = [
        {
            "date": row["day"].isoformat(),
            "requests": row["requests"],
            "prompt_tokens": row["prompt_tokens"] or 0,
            "completion_tokens": row["completion_tokens"] or 0,
        }
        for row in requests.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(requests=Count("id"), prompt_tokens=Sum("prompt_tokens"), completion_tokens=Sum("completion_tokens"))
        .order_by("day")
    ]
    by_model = _grouped(requests, "model")
    # Grouped by the key's id, not its name (a join and a sort on text per row): names are
    # looked up once for the few keys.
    by_key = _grouped(requests, "api_key_id")
    names = dict(ApiKey.objects.filter(pk__in=[row["api_key_id"] for row in by_key]).values_list("pk", "name"))
    for row in by_key:
        row["key"] = names.get(row.pop("api_key_id"), "web session")
    return {"object": "organization.usage", "days": days, "by_day": by_day, "by_model": by_model, "by_key": by_key}
