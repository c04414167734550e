"""The usage report from roll-ups plus the raw tail equals the report from raw rows alone, on
known data spread over days, models and keys; and its totals and percentiles equal what the
known data says (percentiles to the stated precision: the top of the 5% bucket holding the
nearest-rank value)."""

import math
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.conftest import key_client
from tunery.apikeys.models import ApiKey
from tunery.inference.models import InferenceRequest, RolledUpDay, UsageRollup
from tunery.inference.rollup import GRACE, roll_up_usage
from tunery.inference.usage import bucket_top, usage_report

MODELS = ["ft:m:org-a:x:1", "ft:m:org-a:y:2", "base-model"]


def ended_days() -> int:
    """The known data's days that have ended GRACE ago: 12, or 11 in the minutes after midnight."""
    now = timezone.now().astimezone(UTC)
    return 12 - ((now - GRACE).date() != now.date())


@pytest.fixture
def known(org_a, org_b):
    """1,200 requests of A over the last 12 days (today included), 3 models, 2 keys and the web
    session, latencies 1-9,000 ms; and some of B's, which must never count for A."""
    rng = random.Random(3)
    keys = [ApiKey.issue(org_a, name=f"key-{n}", scopes=["inference"])[0] for n in range(2)] + [None]
    now = timezone.now()
    rows = []
    for _ in range(1200):
        rows.append(
            InferenceRequest(
                organization=org_a,
                api_key=rng.choice(keys),
                model=rng.choice(MODELS),
                endpoint="chat.completions",
                status_code=200,
                prompt_tokens=rng.randint(1, 500),
                completion_tokens=rng.randint(1, 200),
                latency_ms=rng.choice([rng.randint(1, 40), rng.randint(40, 9000)]),
            )
        )
    rows += [
        InferenceRequest(
            organization=org_b, model=MODELS[0], endpoint="chat.completions", status_code=200, latency_ms=7
        )
        for _ in range(50)
    ]
    created = InferenceRequest.objects.bulk_create(rows)
    for row in created:  # spread over 12 days (auto_now_add stamped them all now)
        row.created_at = now - timedelta(seconds=rng.randint(0, 12 * 86400 - 1))
    InferenceRequest.objects.bulk_update(created, ["created_at"])
    return now


def _expected(org, days: int) -> dict:
    """The report, computed in Python from the rows."""
    since = timezone.now() - timedelta(days=days)
    rows = list(InferenceRequest.objects.filter(organization=org, created_at__gte=since))
    names = dict(ApiKey.objects.values_list("pk", "name"))

    def totals(group, latency):
        values = {
            "requests": len(group),
            "prompt_tokens": sum(r.prompt_tokens for r in group),
            "completion_tokens": sum(r.completion_tokens for r in group),
        }
        if latency:
            ordered = sorted(r.latency_ms for r in group)
            for name, fraction in (("p50_ms", 0.5), ("p95_ms", 0.95)):
                exact = ordered[max(1, math.ceil(fraction * len(ordered))) - 1]
                values[name] = bucket_top(math.floor(math.log(max(exact, 1)) / math.log(1.05)))
        return values

    def grouped(key):
        groups = defaultdict(list)
        for row in rows:
            groups[key(row)].append(row)
        return groups

    by_model = grouped(lambda r: r.model)
    by_key = grouped(lambda r: r.api_key_id)
    busiest = lambda groups: sorted(groups, key=lambda k: (-len(groups[k]), k is None, k or 0))  # noqa: E731
    return {
        "object": "organization.usage",
        "days": days,
        "by_day": [
            {"date": day.isoformat(), **totals(group, False)}
            for day, group in sorted(grouped(lambda r: r.created_at.astimezone(UTC).date()).items())
        ],
        "by_model": [{"model": m, **totals(by_model[m], True)} for m in busiest(by_model)],
        "by_key": [{**totals(by_key[k], True), "key": names.get(k, "web session")} for k in busiest(by_key)],
    }


@pytest.mark.parametrize("days", [1, 5, 30])
def test_roll_ups_and_the_raw_tail_answer_what_the_rows_say(org_a, known, days):
    before = usage_report(org_a, days)  # nothing rolled up yet: all from raw rows
    assert before == _expected(org_a, days)
    assert roll_up_usage() == ended_days()  # the ended days, not today
    assert UsageRollup.objects.filter(organization=org_a).exists()
    assert usage_report(org_a, days) == before


def test_the_report_reads_the_roll_ups_for_rolled_days(org_a, known):
    expected = usage_report(org_a, 30)
    roll_up_usage()
    yesterday = (timezone.now().astimezone(UTC) - timedelta(days=1)).date()
    # Were the rolled days read from their raw rows, emptying them would change the report.
    InferenceRequest.objects.filter(
        organization=org_a, created_at__lt=datetime.combine(yesterday, datetime.min.time(), tzinfo=UTC)
    ).update(prompt_tokens=0, completion_tokens=0, latency_ms=1)
    report = usage_report(org_a, 30)
    assert report["by_model"] == expected["by_model"]
    # The window's first, partial day and today still come from raw rows: a 1-day report changes.
    assert usage_report(org_a, 1) == _expected(org_a, 1)


def test_rolling_up_twice_counts_once_and_today_waits(org_a, known):
    assert roll_up_usage() == ended_days()
    assert roll_up_usage() == 0
    today = timezone.now().astimezone(UTC).date()
    assert not RolledUpDay.objects.filter(day=today).exists()
    total = sum(UsageRollup.objects.filter(organization=org_a).values_list("requests", flat=True))
    after_last = RolledUpDay.objects.latest("day").day + timedelta(days=1)
    rolled_rows = InferenceRequest.objects.filter(
        organization=org_a, created_at__lt=datetime.combine(after_last, datetime.min.time(), tzinfo=UTC)
    ).count()
    assert total == rolled_rows


def test_another_organizations_usage_never_counts(org_a, org_b, known):
    roll_up_usage()
    theirs = usage_report(org_b, 30)
    assert sum(row["requests"] for row in theirs["by_model"]) == 50
    assert all(row["model"] != "base-model" for row in theirs["by_model"])
    api = key_client(org_a)
    mine = api.get("/v1/organization/usage?days=30").json()
    assert sum(row["requests"] for row in mine["by_model"]) == 1200
