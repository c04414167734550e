"""The billing page (balance, spend chart, ledger, receipts, card, top-up, limits), its CSV
export and receipts, and the operators' revenue view."""

import csv
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count, Q, Sum
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tunery.api.errors import RefusedRequest
from tunery.billing import ledger, payments
from tunery.billing.account_settings import update_settings
from tunery.billing.models import EntryKind, LedgerEntry, Payment, PaymentStatus
from tunery.billing.money import display, parse_usd
from tunery.billing.summary import billing_summary, spend_by_day_and_model
from tunery.orgs.access import member_required
from tunery.orgs.roles import Scope
from tunery.orgs.tenancy import get_for_member, scoped


@member_required()
def billing_page(request):
    organization = request.organization
    page = render(
        request,
        "billing/page.html",
        {
            "summary": billing_summary(organization),
            "chart": spend_by_day_and_model(organization),
            "entries": scoped(LedgerEntry, organization).select_related("job", "usage_period", "payment")[:50],
            "payments": scoped(Payment, organization)[:20],
            "can_manage": Scope.ADMIN in request.membership.scopes,
            "stripe_enabled": payments.stripe_enabled(),
            "self_service_credits": settings.TUNERY_SELF_SERVICE_CREDITS,
            "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "stripe_js_url": settings.STRIPE_JS_URL,
            "nonce": uuid.uuid4().hex,
        },
    )
    return _allow_stripe_js(page) if payments.stripe_enabled() else page


def _refused(request, error: RefusedRequest) -> None:
    messages.error(request, error.message)


@member_required(Scope.ADMIN)
@require_POST
def top_up(request):
    amount = parse_usd(request.POST.get("amount", ""))
    try:
        payment = payments.top_up(
            request.organization,
            amount,
            actor=request.user.get_username(),
            on_session=True,
            idempotency_key=request.POST.get("nonce", "")[:100],
        )  # a double click is one charge
    except RefusedRequest as error:
        _refused(request, error)
        return redirect("billing:page")
    if payment is None:
        messages.success(request, f"Added {display(amount)} of credit (ledger-only mode: no payment was collected).")
        return redirect("billing:page")
    if payment.status == PaymentStatus.REQUIRES_ACTION:
        return redirect("billing:authenticate", payment_id=payment.public_id)
    _say_where_it_stands(request, payment)
    return redirect("billing:page")


def _say_where_it_stands(request, payment: Payment) -> None:
    if payment.status == PaymentStatus.SUCCEEDED:
        messages.success(request, f"Payment of {display(payment.amount)} succeeded: your credit is topped up.")
    elif payment.status == PaymentStatus.FAILED:
        messages.error(request, f"The payment of {display(payment.amount)} failed: {payment.failure_message}")
    else:
        messages.warning(
            request,
            f"The payment of {display(payment.amount)} is {payment.status.replace('_', ' ')}; "
            "credit is added when it succeeds.",
        )


@member_required(Scope.ADMIN)
def authenticate_payment(request, payment_id: str):
    """The bank asked for 3-D Secure: Stripe.js shows its check, then the page posts to
    `refresh_payment`, which asks Stripe how it ended."""
    payment = get_for_member(request, Payment, payment_id)
    if payment.status != PaymentStatus.REQUIRES_ACTION:
        _say_where_it_stands(request, payment)
        return redirect("billing:page")
    try:
        secret = payments.authentication_secret(payment)
    except RefusedRequest as error:
        _refused(request, error)
        return redirect("billing:page")
    page = render(
        request,
        "billing/authenticate.html",
        {
            "payment": payment,
            "client_secret": secret,
            "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "stripe_js_url": settings.STRIPE_JS_URL,
        },
    )
    return _allow_stripe_js(page)


def _allow_stripe_js(response):
    """Stripe.js is loaded from Stripe (STRIPE_JS_URL), shows the card field and the bank's
    check in Stripe's frames and talks to Stripe's API: the Content-Security-Policy of a page
    that loads it names those origins (django-csp's per-response update; every other page
    allows our own origin only)."""
    stripe_js = urlsplit(settings.STRIPE_JS_URL)
    origin = f"{stripe_js.scheme}://{stripe_js.netloc}"
    response._csp_update = {
        "script-src": [origin],
        "frame-src": [origin, "https://*.js.stripe.com", "https://hooks.stripe.com"],
        "connect-src": [origin, "https://api.stripe.com"],
    }
    return response


@member_required(Scope.ADMIN)
@require_POST
def refresh_payment(request, payment_id: str):
    try:
        payment = payments.refresh(get_for_member(request, Payment, payment_id))
    except RefusedRequest as error:
        _refused(request, error)
        return redirect("billing:page")
    _say_where_it_stands(request, payment)
    return redirect("billing:page")


@member_required(Scope.ADMIN)
@require_POST
def card_setup(request):
    """The client secret of a new SetupIntent, fetched by the card form just before Stripe.js
    confirms it."""
    try:
        return JsonResponse({"client_secret": payments.start_card_setup(request.organization)})
    except RefusedRequest as error:
        return JsonResponse({"error": error.message}, status=error.status)


@member_required(Scope.ADMIN)
@require_POST
def payment_method(request):
    try:
        account = payments.finish_card_setup(request.organization, request.POST.get("setup_intent", ""))
    except RefusedRequest as error:
        _refused(request, error)
    else:
        messages.success(request, f"Saved {account.card_brand} •••• {account.card_last4} for payments.")
    return redirect("billing:page")


@member_required(Scope.ADMIN)
@require_POST
def save_settings(request):
    data = {"monthly_spend_limit": request.POST.get("monthly_spend_limit", "").strip()}
    if "auto_recharge_threshold" in request.POST:
        data["auto_recharge"] = {
            "enabled": request.POST.get("auto_recharge") == "on",
            "threshold": request.POST.get("auto_recharge_threshold", "").strip(),
            "amount": request.POST.get("auto_recharge_amount", "").strip(),
        }
    try:
        update_settings(request.organization, data)
    except RefusedRequest as error:
        _refused(request, error)
    else:
        messages.success(request, "Billing settings saved.")
    return redirect("billing:page")


class _Echo:
    def write(self, value):
        return value


@member_required()
def ledger_csv(request):
    """The whole ledger, streamed (an organization's ledger grows without bound)."""
    ledger.account_for(request.organization)  # the trial credit is the first line
    entries = (
        scoped(LedgerEntry, request.organization)
        .select_related("job", "usage_period", "payment")
        .order_by("created_at", "pk")
    )
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(
            [
                "id",
                "created_at",
                "kind",
                "amount_usd",
                "description",
                "fine_tuning_job",
                "usage_model",
                "usage_day",
                "payment",
                "tokens",
            ]
        )
        for e in entries.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    e.public_id,
                    e.created_at.isoformat(),
                    e.kind,
                    e.amount,
                    e.description,
                    e.job.public_id if e.job_id else "",
                    e.usage_period.model if e.usage_period_id else "",
                    e.usage_period.day if e.usage_period_id else "",
                    e.payment.public_id if e.payment_id else "",
                    e.tokens if e.tokens is not None else "",
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="tunery-ledger-{request.organization.slug}.csv"'
    return response


@member_required()
def receipt(request, payment_id: str):
    return render(request, "billing/receipt.html", {"payment": get_for_member(request, Payment, payment_id)})


@staff_member_required
def staff_revenue(request):
    """Operators: what each organization paid and was charged, and failed payments."""
    by_org = (
        LedgerEntry.objects.values("organization__name", "organization__slug")
        .annotate(
            paid=Sum("amount", filter=Q(kind=EntryKind.TOP_UP, payment__isnull=False)),
            credited=Sum(
                "amount",
                filter=Q(kind__in=[EntryKind.TRIAL, EntryKind.ADJUSTMENT, EntryKind.REFUND])
                | Q(kind=EntryKind.TOP_UP, payment__isnull=True),
            ),
            fine_tuning=Sum("amount", filter=Q(kind=EntryKind.JOB_CHARGE)),
            inference=Sum("amount", filter=Q(kind=EntryKind.USAGE_CHARGE)),
            balance=Sum("amount"),
            entries=Count("pk"),
        )
        .order_by("organization__name")
    )
    failed = Payment.objects.filter(status=PaymentStatus.FAILED).select_related("organization")[:50]
    return render(request, "billing/staff_revenue.html", {"rows": by_org, "failed": failed})
