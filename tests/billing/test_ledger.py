"""The ledger: trial credit once, balance as the sum, append-only, money never a float."""

from decimal import Decimal

import pytest
from django.db import connection, transaction

from tunery.billing import ledger
from tunery.billing.models import EntryKind, LedgerEntry, Price
from tunery.billing.money import cost, display, parse_usd, usd


def test_a_new_organization_starts_with_the_trial_credit_once(org_a, settings):
    assert ledger.balance(org_a) == Decimal("10.00")
    assert ledger.balance(org_a) == Decimal("10.00")
    assert list(LedgerEntry.objects.filter(organization=org_a).values_list("kind", flat=True)) == ["trial"]


def test_the_balance_is_the_sum_of_the_entries(org_a):
    ledger.credit(org_a, EntryKind.TOP_UP, Decimal("25.00"), "top-up")
    LedgerEntry.objects.create(
        organization=org_a, kind=EntryKind.USAGE_CHARGE, amount=Decimal("-0.000123"), description="usage"
    )
    assert ledger.balance(org_a) == Decimal("34.999877")


def test_entries_cannot_be_changed_or_deleted(org_a):
    entry = ledger.credit(org_a, EntryKind.TOP_UP, Decimal("5.00"), "top-up")
    entry.amount = Decimal("500.00")
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_an_update_even_behind_the_models_back(org_a):
    entry = ledger.credit(org_a, EntryKind.TOP_UP, Decimal("5.00"), "top-up")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("500.00"))
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount == Decimal("5.00")


def test_prices_are_versioned_not_edited(tiny_base):
    price = Price.objects.get(base_model=tiny_base)
    price.training_per_million = Decimal("99")
    with pytest.raises(ValueError, match="versioned"):
        price.save()


def test_money_is_exact_and_never_a_float():
    with pytest.raises(TypeError):
        usd(0.1)
    assert cost(1_234, Decimal("0.50")) == Decimal("0.000617")
    assert parse_usd("$1,025.50") == Decimal("1025.50")
    assert parse_usd("1.005") is None and parse_usd("ten") is None
    assert display(Decimal("1234.5")) == "$1,234.50"
    assert display(Decimal("-0.000617")) == "-$0.000617"
