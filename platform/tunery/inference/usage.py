"""Usage of an organization's models: requests, tokens and latency by day, model and key."""

from collections import defaultdict
from datetime import timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from tunery.inference.models import InferenceRequest
from tunery.orgs.tenancy import scoped


def _percentile(values: list[int], fraction: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _latency(rows: list[int]) -> dict:
    return {"p50_ms": _percentile(rows, 0.5), "p95_ms": _percentile(rows, 0.95)}


def usage_report(organization, days: int = 30) -> dict:
    since = timezone.now() - timedelta(days=days)
    requests = scoped(InferenceRequest, organization).filter(created_at__gte=since)
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
    latencies_by_model, latencies_by_key = defaultdict(list), defaultdict(list)
    for model, key, latency in requests.values_list("model", "api_key__name", "latency_ms").iterator():
        latencies_by_model[model].append(latency)
        latencies_by_key[key or "web session"].append(latency)
    by_model = [
        {
            **row,
            "prompt_tokens": row["prompt_tokens"] or 0,
            "completion_tokens": row["completion_tokens"] or 0,
            **_latency(latencies_by_model[row["model"]]),
        }
        for row in requests.values("model").annotate(**totals).order_by("-requests")
    ]
    by_key = [
        {
            "key": row["api_key__name"] or "web session",
            "requests": row["requests"],
            "prompt_tokens": row["prompt_tokens"] or 0,
            "completion_tokens": row["completion_tokens"] or 0,
            **_latency(latencies_by_key[row["api_key__name"] or "web session"]),
        }
        for row in requests.values("api_key__name").annotate(**totals).order_by("-requests")
    ]
    return {"object": "organization.usage", "days": days, "by_day": by_day, "by_model": by_model, "by_key": by_key}
