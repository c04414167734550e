"""What the billing page and `GET /v1/organization/billing` show: balance, spend, limit,
payment method, and usage charged by day and model."""

from collections import defaultdict

from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from tunery.billing import ledger
from tunery.billing.limits import current_notices, month_spend
from tunery.billing.models import CHARGE_KINDS, EntryKind, LedgerEntry
from tunery.billing.payments import stripe_enabled


def billing_summary(organization) -> dict:
    account = ledger.account_for(organization)
    limit = account.monthly_spend_limit
    spent = month_spend(organization)
    return {
        "object": "billing",
        "mode": "stripe" if stripe_enabled() else "ledger_only",
        "currency": "usd",
        "balance": str(ledger.balance(organization)),
        "held": str(ledger.held(organization)),
        "month_spend": str(spent),
        "monthly_spend_limit": str(limit) if limit is not None else None,
        "month_spend_fraction": float(spent / limit) if limit else None,
        "notices": current_notices(organization),
        "payment_method": {"brand": account.card_brand, "last4": account.card_last4, "exp": account.card_exp}
        if account.has_card
        else None,
        "auto_recharge": {
            "enabled": account.auto_recharge,
            "threshold": str(account.auto_recharge_threshold),
            "amount": str(account.auto_recharge_amount),
        },
    }


def spend_by_day_and_model(organization, days: int = 30) -> dict:
    """Charges per day, split by what they were for (a model's inference, evaluations, fine-tuning), for
    a stacked bar chart: {"days": [...], "series": [{"label", "amounts": [...]}]}."""
    since = (timezone.now() - timezone.timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (
        LedgerEntry.objects.filter(organization=organization, kind__in=CHARGE_KINDS, created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day", "kind", "usage_period__model", "job__base_model__name")
        .annotate(total=Sum("amount"))
    )
    day_list = [(since + timezone.timedelta(days=i)).date() for i in range(days)]
    series: dict[str, dict] = defaultdict(dict)
    for row in rows:
        if row["kind"] == EntryKind.USAGE_CHARGE:
            label = f"Inference: {row['usage_period__model']}"
        elif row["kind"] == EntryKind.EVALUATION_CHARGE:
            label = "Evaluations"
        else:
            label = f"Fine-tuning: {row['job__base_model__name']}"
        series[label][row["day"]] = series[label].get(row["day"], 0) - row["total"]
    return {
        "days": [d.isoformat() for d in day_list],
        "series": [
            {"label": label, "amounts": [str(by_day.get(d, 0)) for d in day_list]}
            for label, by_day in sorted(series.items())
        ],
    }


def entry_data(entry: LedgerEntry) -> dict:
    return {
        "id": entry.public_id,
        "object": "billing.ledger_entry",
        "created_at": int(entry.created_at.timestamp()),
        "kind": entry.kind,
        "amount": str(entry.amount),
        "currency": "usd",
        "description": entry.description,
        "fine_tuning_job": entry.job.public_id if entry.job_id else None,
        "usage_period": {"model": entry.usage_period.model, "day": entry.usage_period.day.isoformat()}
        if entry.usage_period_id
        else None,
        "payment": entry.payment.public_id if entry.payment_id else None,
        "tokens": entry.tokens,
    }


def payment_data(payment) -> dict:
    return {
        "id": payment.public_id,
        "object": "billing.payment",
        "created_at": int(payment.created_at.timestamp()),
        "amount": str(payment.amount),
        "currency": payment.currency,
        "status": payment.status,
        "automatic": payment.automatic,
        "failure_message": payment.failure_message or None,
        "card": payment.card or None,
        "receipt_url": payment.receipt_url or None,
    }
