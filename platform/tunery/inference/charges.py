"""Inference is charged per period: every minute (beat) the requests not yet charged are summed
per organization, model and UTC day, and each sum becomes one ledger entry linked to that
day's UsagePeriod. Requests are claimed with SKIP LOCKED, so two runs never charge one twice."""

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from tunery.billing.limits import after_spend
from tunery.billing.models import EntryKind, LedgerEntry, UsagePeriod
from tunery.billing.money import cost
from tunery.billing.prices import current_price
from tunery.inference.models import InferenceRequest
from tunery.orgs.models import Organization

BATCH = 5000


def charge_pending_usage(now=None) -> int:
    """Charge what is pending; returns the number of ledger entries written."""
    now = now or timezone.now()
    written = 0
    while True:
        with transaction.atomic():
            claimed = list(
                InferenceRequest.objects.select_for_update(skip_locked=True)
                .filter(charged_at__isnull=True, created_at__lte=now)
                .order_by("created_at")
                .values(
                    "pk",
                    "organization_id",
                    "model",
                    "base_model_id",
                    "created_at",
                    "prompt_tokens",
                    "completion_tokens",
                )[:BATCH]
            )
            if not claimed:
                return written
            written += _charge(claimed, now)
            InferenceRequest.objects.filter(pk__in=[row["pk"] for row in claimed]).update(charged_at=now)
        organizations = {row["organization_id"] for row in claimed}
        transaction.on_commit(lambda organizations=organizations: _after_debit(organizations))
        if len(claimed) < BATCH:
            return written


def _charge(claimed: list[dict], now) -> int:
    groups: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for row in claimed:
        key = (row["organization_id"], row["model"], row["base_model_id"], row["created_at"].date())
        groups[key][0] += row["prompt_tokens"]
        groups[key][1] += row["completion_tokens"]
    written = 0
    for (organization_id, model, base_model_id, day), (prompt, completion) in groups.items():
        if not prompt and not completion or base_model_id is None:
            continue
        period, _ = UsagePeriod.objects.get_or_create(
            organization_id=organization_id, model=model, day=day, defaults={"base_model_id": base_model_id}
        )
        price = current_price(period.base_model, at=now)
        if price is None:
            continue  # an unpriced base model is free to use
        amount = cost(prompt, price.input_per_million) + cost(completion, price.output_per_million)
        if amount <= 0:
            continue
        LedgerEntry.objects.create(
            organization_id=organization_id,
            kind=EntryKind.USAGE_CHARGE,
            amount=-amount,
            usage_period=period,
            tokens=prompt + completion,
            description=f"Inference {model} on {day:%Y-%m-%d}: {prompt:,} prompt + {completion:,} completion tokens",
        )
        written += 1
    return written


def _after_debit(organization_ids) -> None:
    for organization in Organization.objects.filter(pk__in=organization_ids):
        after_spend(organization)
