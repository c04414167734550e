"""Usage of an organization's models: requests, tokens and latency by day, model and key."""

import math
import re
from datetime import timedelta

from django.db import connection
from django.db.models import Aggregate, Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

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


def _latencies(requests, group: str) -> dict[str, dict]:
    """{group value: {"p50_ms": …, "p95_ms": …}} for `group` ("model" or "api_key__name")."""
    if connection.vendor == "postgresql":
        rows = requests.values(group).annotate(
            **{name: PercentileDisc("latency_ms", fraction) for name, fraction in PERCENTILES.items()}
        )
        return {row[group]: {name: row[name] for name in PERCENTILES} for row in rows}
    values: dict = {}
    for key, latency in requests.values_list(group, "latency_ms").iterator():
        values.setdefault(key, []).append(latency)
    return {
        key: {name: percentile_disc(latencies, fraction) for name, fraction in PERCENTILES.items()}
        for key, latencies in values.items()
    }


def usage_report(organization, days: int = 30) -> dict:
    since = timezone.now() - timedelta(days=days)
    requests = scoped(InferenceRequest, organization).filter(created_at__gte=since).order_by()
    totals = {
        "requests": Count("id"),
        "prompt_tokens": Sum("prompt_tokens"),
        "completion_tokens": Sum("completion_tokens"),
    }
    by_day = [
        {
            "date": row["day"].isoformat(),
            "requests": row["requests"],
            "prompt_tokens": row["prompt_tokens"] or 0,
            "completion_tokens": row["completion_tokens"] or 0,
        }
        for row in requests.annotate(day=TruncDate("created_at")).values("day").annotate(**totals).order_by("day")
    ]
    latency_by_model = _latencies(requests, "model")
    latency_by_key = _latencies(requests, "api_key__name")
    by_model = [
        {
            **row,
            "prompt_tokens": row["prompt_tokens"] or 0,
            "completion_tokens": row["completion_tokens"] or 0,
            **latency_by_model[row["model"]],
        }
        for row in requests.values("model").annotate(**totals).order_by("-requests")
    ]
    by_key = [
        {
            "key": row["api_key__name"] or "web session",
            "requests": row["requests"],
            "prompt_tokens": row["prompt_tokens"] or 0,
            "completion_tokens": row["completion_tokens"] or 0,
            **latency_by_key[row["api_key__name"]],
        }
        for row in requests.values("api_key__name").annotate(**totals).order_by("-requests")
    ]
    return {"object": "organization.usage", "days": days, "by_day": by_day, "by_model": by_model, "by_key": by_key}
