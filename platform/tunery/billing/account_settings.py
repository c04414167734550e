"""An organization's billing settings: the monthly spend limit and auto-recharge, the same
rules for the API (`PATCH /v1/organization/billing`) and the billing page."""

from decimal import Decimal

from tunery.api.errors import RefusedRequest
from tunery.billing import ledger, payments
from tunery.billing.models import BillingAccount
from tunery.billing.money import parse_usd


def amount_field(data: dict, field: str, *, allow_empty: bool = False) -> Decimal | None:
    raw = data.get(field)
    if allow_empty and raw in (None, ""):
        return None
    if isinstance(raw, float):  # JSON numbers arrive as floats: take their decimal text
        raw = repr(raw)
    value = parse_usd(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
    if value is None or value < 0:
        raise RefusedRequest(
            f'{field} must be an amount in dollars with at most two decimals, up to 1,000,000,000, e.g. "25.00".',
            param=field,
        )
    return value


def update_settings(organization, data: dict) -> BillingAccount:
    """Spend limit and auto-recharge, from the API or the billing page (same rules)."""
    account = ledger.account_for(organization)
    unknown = sorted(set(data) - {"monthly_spend_limit", "auto_recharge"})
    if unknown:
        raise RefusedRequest(
            f"Unknown field {unknown[0]!r}; settable are monthly_spend_limit and auto_recharge.", param=unknown[0]
        )
    if "monthly_spend_limit" in data:
        account.monthly_spend_limit = amount_field(data, "monthly_spend_limit", allow_empty=True)
    if "auto_recharge" in data:
        recharge = data["auto_recharge"]
        if not isinstance(recharge, dict):
            raise RefusedRequest(
                "auto_recharge must be an object: {enabled, threshold, amount}.", param="auto_recharge"
            )
        if "enabled" in recharge:
            if not isinstance(recharge["enabled"], bool):
                raise RefusedRequest("auto_recharge.enabled must be true or false.", param="auto_recharge.enabled")
            account.auto_recharge = recharge["enabled"]
        if "threshold" in recharge:
            account.auto_recharge_threshold = amount_field(recharge, "threshold")
        if "amount" in recharge:
            amount = amount_field(recharge, "amount")
            if not payments.MIN_TOP_UP <= amount <= payments.MAX_TOP_UP:
                raise RefusedRequest(
                    f"auto_recharge.amount must be between {payments.MIN_TOP_UP} and {payments.MAX_TOP_UP}.",
                    param="auto_recharge.amount",
                )
            account.auto_recharge_amount = amount
        if account.auto_recharge and not account.has_card:
            raise RefusedRequest(
                "Add a card before turning on auto-recharge.", param="auto_recharge.enabled", code="no_payment_method"
            )
    account.save(
        update_fields=["monthly_spend_limit", "auto_recharge", "auto_recharge_threshold", "auto_recharge_amount"]
    )
    return account
