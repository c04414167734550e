"""Tunery's billing API under /v1/organization/billing: summary and settings, the ledger,
the card, and top-ups. Reading needs `read`; changing anything needs `admin`."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from tunery.api.pagination import cursor_page
from tunery.api.serializers import refuse_unknown_fields
from tunery.api.views import OrganizationAPIView
from tunery.billing import ledger, payments
from tunery.billing.account_settings import amount_field, update_settings
from tunery.billing.models import LedgerEntry, Payment
from tunery.billing.summary import billing_summary, entry_data, payment_data


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

    @extend_schema(
        operation_id="list_ledger_entries",
        parameters=[OpenApiParameter("after", str), OpenApiParameter("limit", int)],
        responses={200: dict},
    )
    def get(self, request):
        ledger.account_for(request.organization)  # the trial credit is the first line anyone sees
        return cursor_page(request, self.get_queryset().select_related("job", "usage_period", "payment"), entry_data)


class PaymentMethod(OrganizationAPIView):
    """POST {"payment_method": "pm_..."} or {"setup_intent": "seti_..."} (confirmed by Stripe.js
    with the client secret from `card_setup`) saves the organization's card."""

    @extend_schema(operation_id="set_payment_method", request=dict, responses={200: dict})
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        refuse_unknown_fields(data, ["payment_method", "setup_intent"])
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
    """POST {"amount": "25.00"} charges the saved card (ledger-only mode: adds the credit). An
    `Idempotency-Key` header makes a retried request the same charge."""

    model = Payment

    @extend_schema(
        operation_id="list_top_ups",
        parameters=[OpenApiParameter("after", str), OpenApiParameter("limit", int)],
        responses={200: dict},
    )
    def get(self, request):
        return cursor_page(request, self.get_queryset(), payment_data)

    @extend_schema(operation_id="create_top_up", request=dict, responses={200: dict})
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        refuse_unknown_fields(data, ["amount"])
        payment = payments.top_up(
            request.organization,
            amount_field(data, "amount"),
            actor=str(request.user),
            idempotency_key=request.headers.get("Idempotency-Key", "")[:200],
        )
        return Response(
            {"payment": payment_data(payment) if payment else None, "billing": billing_summary(request.organization)}
        )
