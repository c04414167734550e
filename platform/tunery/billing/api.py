"""Tunery's billing API under /v1/organization/billing: summary and settings, the ledger,
the card, and top-ups. Reading needs `read`; changing anything needs `admin`."""
from decimal import Decimal

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from tunery.api.errors import ApiError
from tunery.api.pagination import cursor_page
from tunery.api.views import OrganizationAPIView
from tunery.billing import ledger, payments
from tunery.billing.models import BillingAccount, LedgerEntry, Payment
from tunery.billing.money import parse_usd
from tunery.billing.summary import billing_summary, entry_data, payment_data


def _amount(data: dict, field: str, *, allow_empty: bool = False) -> Decimal | None:
    raw = data.get(field)
    if allow_empty and raw in (None, ""):
        return None
    if isinstance(raw, float):  # JSON numbers arrive as floats: take their decimal text
        raw = repr(raw)
    value = parse_usd(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
    if value is None or value < 0:
        raise ApiError(f"{field} must be an amount in dollars with at most two decimals, e.g. \"25.00\".", param=field, code="invalid_value")
    return value


def update_settings(organization, data: dict) -> BillingAccount:
    """Spend limit and auto-recharge, from the API or the billing page (same rules)."""
    account = ledger.account_for(organization)
    unknown = sorted(set(data) - {"monthly_spend_limit", "auto_recharge"})
    if unknown:
        raise ApiError(f"Unknown field {unknown[0]!r}; settable are monthly_spend_limit and auto_recharge.", param=unknown[0])
    if "monthly_spend_limit" in data:
        account.monthly_spend_limit = _amount(data, "monthly_spend_limit", allow_empty=True)
    if "auto_recharge" in data:
        recharge = data["auto_recharge"]
        if not isinstance(recharge, dict):
            raise ApiError("auto_recharge must be an object: {enabled, threshold, amount}.", param="auto_recharge")
        if "enabled" in recharge:
            if not isinstance(recharge["enabled"], bool):
                raise ApiError("auto_recharge.enabled must be true or false.", param="auto_recharge.enabled")
            account.auto_recharge = recharge["enabled"]
        if "threshold" in recharge:
            account.auto_recharge_threshold = _amount(recharge, "threshold")
        if "amount" in recharge:
            amount = _amount(recharge, "amount")
            if not payments.MIN_TOP_UP <= amount <= payments.MAX_TOP_UP:
                raise ApiError(f"auto_recharge.amount must be between {payments.MIN_TOP_UP} and {payments.MAX_TOP_UP}.", param="auto_recharge.amount")
            account.auto_recharge_amount = amount
        if account.auto_recharge and not account.has_card:
            raise ApiError("Add a card before turning on auto-recharge.", param="auto_recharge.enabled", code="no_payment_method")
    account.save(update_fields=["monthly_spend_limit", "auto_recharge", "auto_recharge_threshold", "auto_recharge_amount"])
    return account


class BillingSummary(OrganizationAPIView):
    @extend_schema(operation_id="retrieve_billing", responses={200: dict})
    def get(self, request):
        return Response(billing_summary(request.organization))

    @extend_schema(operation_id="update_billing", request=dict, responses={200: dict})
    def patch(self, request):
        update_settings(request.organization, request.data if isinstance(request.data, dict) else {})
        return Response(billing_summary(request.organization))


class LedgerList(OrganizationAPIView):
    model = LedgerEntry

    @extend_schema(operation_id="list_ledger_entries", parameters=[OpenApiParameter("after", str), OpenApiParameter("limit", int)], responses={200: dict})
    def get(self, request):
        ledger.account_for(request.organization)  # the trial credit is the first line anyone sees
        return cursor_page(request, self.get_queryset().select_related("job", "usage_period", "payment"), entry_data)


class PaymentMethod(OrganizationAPIView):
    """POST {"payment_method": "pm_..."} or {"setup_intent": "seti_..."} (confirmed by Stripe.js
    with the client secret from `card_setup`) saves the organization's card."""

    @extend_schema(operation_id="set_payment_method", request=dict, responses={200: dict})
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        if "setup_intent" in data:
            payments.finish_card_setup(request.organization, data["setup_intent"])
        else:
            payments.set_payment_method(request.organization, data.get("payment_method"))
        return Response(billing_summary(request.organization))


class CardSetup(OrganizationAPIView):
    """A SetupIntent's client secret, for Stripe.js `confirmCardSetup`."""

    @extend_schema(operation_id="create_card_setup", request=None, responses={200: dict})
    def post(self, request):
        return Response({"client_secret": payments.start_card_setup(request.organization)})


class TopUps(OrganizationAPIView):
    """POST {"amount": "25.00"} charges the saved card (ledger-only mode: adds the credit)."""

    model = Payment

    @extend_schema(operation_id="list_top_ups", parameters=[OpenApiParameter("after", str), OpenApiParameter("limit", int)], responses={200: dict})
    def get(self, request):
        return cursor_page(request, self.get_queryset(), payment_data)

    @extend_schema(operation_id="create_top_up", request=dict, responses={200: dict})
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        payment = payments.top_up(request.organization, _amount(data, "amount"), actor=str(request.user))
        return Response({"payment": payment_data(payment) if payment else None, "billing": billing_summary(request.organization)})
