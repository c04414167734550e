"""Inference is charged per organization, model and day, from the metered requests, once."""

from decimal import Decimal

from django.utils import timezone

from tunery.billing import ledger
from tunery.billing.models import EntryKind, LedgerEntry, UsagePeriod
from tunery.billing.money import cost
from tunery.inference import metering
from tunery.inference.charges import charge_pending_usage


def _call(organization, base, model, prompt, completion, status=200):
    metering.record(
        organization=organization,
        api_key=None,
        model=model,
        base_model=base,
        endpoint="chat.completions",
        stream=False,
        status_code=status,
        usage={"prompt_tokens": prompt, "completion_tokens": completion},
        latency_ms=10,
    )


def test_usage_is_charged_per_model_and_day_exactly_once(org_a, org_b, tiny_base):
    before_a, before_b = ledger.balance(org_a), ledger.balance(org_b)
    _call(org_a, tiny_base, "tiny-llama", 1_000, 200)
    _call(org_a, tiny_base, "tiny-llama", 3_000, 800)
    _call(org_a, tiny_base, "ft:tiny-llama:org-a::abcd1234", 500, 500)
    _call(org_b, tiny_base, "tiny-llama", 10, 10)
    _call(org_a, tiny_base, "tiny-llama", 0, 0, status=429)  # refused calls cost nothing

    assert charge_pending_usage() == 3
    assert charge_pending_usage() == 0  # a second run finds nothing left to charge

    base_entry = LedgerEntry.objects.get(organization=org_a, usage_period__model="tiny-llama")
    # Priced on the period's summed tokens: $0.10/1M in, $0.20/1M out.
    assert base_entry.amount == -(cost(4_000, Decimal("0.10")) + cost(1_000, Decimal("0.20")))
    assert base_entry.tokens == 5_000 and base_entry.kind == EntryKind.USAGE_CHARGE
    assert base_entry.usage_period.day == timezone.now().date()
    assert ledger.balance(org_a) == before_a + sum(
        LedgerEntry.objects.filter(organization=org_a, kind=EntryKind.USAGE_CHARGE).values_list("amount", flat=True)
    )
    assert ledger.balance(org_b) == before_b - cost(10, Decimal("0.10")) - cost(10, Decimal("0.20"))

    _call(org_a, tiny_base, "tiny-llama", 2_000, 0)  # later the same day: a new entry in the same period
    assert charge_pending_usage() == 1
    assert UsagePeriod.objects.filter(organization=org_a, model="tiny-llama").count() == 1
    assert LedgerEntry.objects.filter(organization=org_a, usage_period__model="tiny-llama").count() == 2
