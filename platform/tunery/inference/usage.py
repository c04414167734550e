"""Usage of an organization's models: requests, tokens and latency by day, model and key.

Whole UTC days that have ended are read from their roll-ups (UsageRollup, written by rollup.py:
one row per organization, day, model and key), the rest of the window (its first, partial day,
today, and any day not rolled up yet) from the raw requests, grouped in the database. Totals are
exact either way. Latency percentiles come from a histogram: each request counts in a bucket
`floor(ln(ms) / ln(1.05))`, and a percentile is the top of the bucket that holds the
nearest-rank value (PostgreSQL's percentile_disc), so it is never below that value and at most
5% above it (exact below 21 ms, where every whole millisecond has a bucket of its own).
Histograms add up across days, which exact percentiles do not.
"""

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.db.models import Count, F, FloatField, Q, Sum, Value
from django.db.models.functions import Cast, Floor, Greatest, Ln, TruncDate
from django.utils import timezone

from tunery.apikeys.models import ApiKey
from tunery.inference.models import InferenceRequest, RolledUpDay, UsageRollup
from tunery.orgs.tenancy import scoped

DAYS_RANGE = (1, 365)
PERCENTILES = {"p50_ms": 0.5, "p95_ms": 0.95}
BUCKET_RATIO = 1.05
_LOG_RATIO = math.log(BUCKET_RATIO)
_ASCII_INTEGER = re.compile(r"[0-9]{1,3}")


def parse_days(raw: str) -> int:
    """The `days` query parameter: ASCII digits from 1 to 365. Not `str.isdigit` / `int`,
    which take '²' and '١٢' (then int() raises, or a Unicode digit is read as a number)."""
    if not _ASCII_INTEGER.fullmatch(raw) or not DAYS_RANGE[0] <= int(raw) <= DAYS_RANGE[1]:
        raise ValueError(f"days must be a whole number from {DAYS_RANGE[0]} to {DAYS_RANGE[1]}.")
    return int(raw)


def latency_bucket():
    """The request's latency bucket, computed by the database (LN and FLOOR: PostgreSQL's own,
    on SQLite the functions Django registers)."""
    milliseconds = Cast(Greatest(F("latency_ms"), Value(1)), FloatField())
    return Floor(Ln(milliseconds) / Value(_LOG_RATIO))


def bucket_top(index: int) -> int:
    """The largest whole millisecond in bucket `index`."""
    top = math.ceil(BUCKET_RATIO ** (index + 1))
    while _bucket(top) > index:
        top -= 1
    while _bucket(top + 1) == index:
        top += 1
    return top


def _bucket(milliseconds: int) -> int:
    return math.floor(math.log(max(milliseconds, 1)) / _LOG_RATIO)


def percentile(buckets: Counter, fraction: float) -> int | None:
    """The top of the bucket holding the request at rank ceil(fraction · n)."""
    total = sum(buckets.values())
    if not total:
        return None
    rank, seen = max(1, math.ceil(fraction * total)), 0
    for index in sorted(buckets):
        seen += buckets[index]
        if seen >= rank:
            return bucket_top(index)
    raise AssertionError("unreachable: the ranks add up to the total")


@dataclass
class Cell:
    """Requests of one day, model and key."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    buckets: Counter = field(default_factory=Counter)

    def add(self, other: "Cell") -> None:
        self.requests += other.requests
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.buckets.update(other.buckets)


def raw_cells(requests) -> dict[tuple, Cell]:
    """Cells by (organization id, day, model, key id) from raw requests, grouped by the database:
    one row per cell and latency bucket comes back, no request."""
    cells: dict[tuple, Cell] = defaultdict(Cell)
    rows = (
        requests.annotate(day=TruncDate("created_at"), bucket=latency_bucket())
        .values("organization_id", "day", "model", "api_key_id", "bucket")
        .annotate(n=Count("id"), prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens"))
        .order_by()
    )
    for row in rows:
        cells[(row["organization_id"], row["day"], row["model"], row["api_key_id"])].add(
            Cell(row["n"], row["prompt"] or 0, row["completion"] or 0, Counter({int(row["bucket"]): row["n"]}))
        )
    return cells


def day_start(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def usage_report(organization, days: int = 30) -> dict:
    since = timezone.now() - timedelta(days=days)
    rolled = sorted(RolledUpDay.objects.filter(day__gt=since.date()).values_list("day", flat=True))
    cells: dict[tuple, Cell] = defaultdict(Cell)
    for row in scoped(UsageRollup, organization).filter(day__in=rolled).values():
        buckets = Counter({int(index): count for index, count in row["latency_buckets"].items()})
        cells[(row["day"], row["model"], row["api_key_id"])].add(
            Cell(row["requests"], row["prompt_tokens"], row["completion_tokens"], buckets)
        )
    requests = scoped(InferenceRequest, organization).filter(_not_rolled_up(since, rolled))
    for (_, day, model, key_id), cell in raw_cells(requests).items():
        cells[(day, model, key_id)].add(cell)
    by_day, by_model, by_key = defaultdict(Cell), defaultdict(Cell), defaultdict(Cell)
    for (day, model, key_id), cell in cells.items():
        by_day[day].add(cell)
        by_model[model].add(cell)
        by_key[key_id].add(cell)
    names = dict(ApiKey.objects.filter(pk__in=[k for k in by_key if k is not None]).values_list("pk", "name"))
    return {
        "object": "organization.usage",
        "days": days,
        "by_day": [{"date": day.isoformat(), **_totals(by_day[day])} for day in sorted(by_day)],
        "by_model": [{"model": model, **_totals(cell, latency=True)} for model, cell in _busiest(by_model)],
        "by_key": [
            {**_totals(cell, latency=True), "key": names.get(key_id, "web session")}
            for key_id, cell in _busiest(by_key)
        ],
    }


def _not_rolled_up(since: datetime, rolled: list) -> Q:
    """The window from `since` less the rolled-up days, as ranges of created_at (each one an
    index range scan, where excluding the days from the whole window would read all of it)."""
    ranges, start = [], since
    for day in rolled:
        if start < day_start(day):
            ranges.append(Q(created_at__gte=start, created_at__lt=day_start(day)))
        start = day_start(day + timedelta(days=1))
    ranges.append(Q(created_at__gte=start))
    condition = ranges[0]
    for more in ranges[1:]:
        condition |= more
    return condition


def _busiest(groups: dict) -> list:
    """Most requests first, then by name or id (the web session, None, last)."""
    return sorted(groups.items(), key=lambda item: (-item[1].requests, item[0] is None, item[0] or 0))


def _totals(cell: Cell, latency: bool = False) -> dict:
    totals = {
        "requests": cell.requests,
        "prompt_tokens": cell.prompt_tokens,
        "completion_tokens": cell.completion_tokens,
    }
    if latency:
        totals |= {name: percentile(cell.buckets, fraction) for name, fraction in PERCENTILES.items()}
    return totals
