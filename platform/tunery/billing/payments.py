"""Stripe as the payment rail: one Customer per organization, a saved card, and top-ups as
confirmed off-session PaymentIntents. A top-up is credited when Stripe says it succeeded —
in the confirming reply or in the webhook, whichever comes first, and only once (the ledger
allows one credit per Payment). Without Stripe keys there is no rail: ledger-only mode."""

import logging
import uuid
from contextlib import contextmanager
from decimal import Decimal

import stripe
from django.conf import settings
from django.db import transaction

from tunery.api.errors import RefusedRequest
from tunery.billing import ledger
from tunery.billing.models import BillingAccount, EntryKind, LedgerEntry, Payment, PaymentStatus
from tunery.billing.money import display, from_cents, to_cents

logger = logging.getLogger(__name__)
MIN_TOP_UP = Decimal("5.00")
MAX_TOP_UP = Decimal("10000.00")
DECLINE_CODES = {
    "card_declined",
    "expired_card",
    "incorrect_cvc",
    "incorrect_number",
    "insufficient_funds",
    "processing_error",
    "authentication_required",
}


class PaymentRefused(RefusedRequest):
    """A top-up or card that Stripe (or our limits) refused."""


def stripe_enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def client() -> stripe.StripeClient:
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else {}
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses=base, max_network_retries=2)


def ensure_customer(account: BillingAccount) -> str:
    if not account.stripe_customer_id:
        organization = account.organization
        customer = client().v1.customers.create(
            {"name": organization.name, "metadata": {"organization": organization.public_id}},
            {"idempotency_key": f"customer-{organization.public_id}"},  # one Customer even if two requests race
        )
        BillingAccount.objects.filter(pk=account.pk, stripe_customer_id="").update(stripe_customer_id=customer.id)
        account.refresh_from_db()
    return account.stripe_customer_id


def start_card_setup(organization) -> str:
    """A SetupIntent for saving a card off-session; its client secret goes to Stripe.js
    (`confirmCardSetup`), which collects the card and handles 3-D Secure in the browser."""
    _require_stripe()
    account = ledger.account_for(organization)
    with _stripe_errors():
        intent = client().v1.setup_intents.create(
            {
                "customer": ensure_customer(account),
                "usage": "off_session",
                "payment_method_types": ["card"],
                "metadata": {"organization": organization.public_id},
            }
        )
    return intent.client_secret


def finish_card_setup(organization, setup_intent_id: str) -> BillingAccount:
    """After Stripe.js confirmed the SetupIntent: make its card the organization's default."""
    _require_stripe()
    if not isinstance(setup_intent_id, str) or not setup_intent_id.startswith("seti_"):
        raise PaymentRefused("setup_intent must be a Stripe SetupIntent id (seti_...).", param="setup_intent")
    account = ledger.account_for(organization)
    with _stripe_errors():
        intent = client().v1.setup_intents.retrieve(setup_intent_id)
    if intent.customer != account.stripe_customer_id:
        raise PaymentRefused(
            "That card setup belongs to another customer.", param="setup_intent", status=404, code="not_found"
        )
    if intent.status != "succeeded":
        raise PaymentRefused(
            f"The card was not saved: the setup is {intent.status.replace('_', ' ')}. Try again or use another card.",
            param="setup_intent",
            code="card_declined",
            status=402,
        )
    return _save_card(account, intent.payment_method)


def set_payment_method(organization, payment_method_id: str) -> BillingAccount:
    """Attach a card (a PaymentMethod made by Stripe.js or a Stripe client) and make it the default."""
    _require_stripe()
    if not isinstance(payment_method_id, str) or not payment_method_id.startswith("pm_"):
        raise PaymentRefused("payment_method must be a Stripe PaymentMethod id (pm_...).", param="payment_method")
    return _save_card(ledger.account_for(organization), payment_method_id)


def _save_card(account: BillingAccount, payment_method_id: str) -> BillingAccount:
    stripe_api = client().v1
    with _stripe_errors():
        customer = ensure_customer(account)
        method = stripe_api.payment_methods.retrieve(payment_method_id)
        if method.customer != customer:  # a SetupIntent has attached it already
            method = stripe_api.payment_methods.attach(payment_method_id, {"customer": customer})
        stripe_api.customers.update(customer, {"invoice_settings": {"default_payment_method": method.id}})
    card = method.card
    BillingAccount.objects.filter(pk=account.pk).update(
        stripe_payment_method_id=method.id,
        card_brand=card.brand,
        card_last4=card.last4,
        card_exp=f"{card.exp_month:02d}/{card.exp_year}",
    )
    account.refresh_from_db()
    return account


@contextmanager
def _stripe_errors():
    """Stripe's errors as refusals a user can act on: a decline (402), a bad card (400), or the
    provider failing (502). Nothing was saved or charged in any of them."""
    try:
        yield
    except stripe.StripeError as error:
        if _is_decline(error):
            raise PaymentRefused(
                f"The card was declined: {error.user_message or error}",
                param="payment_method",
                code="card_declined",
                status=402,
            )
        if isinstance(error, stripe.InvalidRequestError):
            raise PaymentRefused(f"Stripe refused the card: {error.user_message or error}", param="payment_method")
        raise _unavailable(error)


def top_up(
    organization,
    amount: Decimal,
    *,
    automatic: bool = False,
    actor: str = "",
    idempotency_key: str = "",
    on_session: bool = False,
) -> Payment | None:
    """Charge the saved card `amount` dollars. In ledger-only mode the credit is simply added
    (there is no money to collect) and None is returned.

    `on_session`: the customer is at the web page, so when the bank asks for 3-D Secure the
    Payment comes back `requires_action` and the page lets them authenticate it
    (`authentication_secret`, then `refresh`). Off session (the API, auto-recharge) Stripe
    declines such a charge instead.

    `idempotency_key` makes a retry (a double click, a client retrying after a timeout, a
    redelivered task) the same charge: Stripe answers it with the first PaymentIntent."""
    if amount is None or not MIN_TOP_UP <= amount <= MAX_TOP_UP:
        raise PaymentRefused(
            f"A top-up is between {display(MIN_TOP_UP)} and {display(MAX_TOP_UP)}, in dollars and cents.",
            param="amount",
        )
    if not stripe_enabled():
        _credit_without_payment(organization, amount, actor, idempotency_key)
        return None
    account = ledger.account_for(organization)
    if not account.has_card:
        raise PaymentRefused("Add a card first.", param="payment_method", code="no_payment_method")
    params = {
        "amount": to_cents(amount),
        "currency": "usd",
        "customer": account.stripe_customer_id,
        "payment_method": account.stripe_payment_method_id,
        "off_session": not on_session,
        "confirm": True,
        "expand": ["latest_charge"],  # the charge carries the receipt URL
        "payment_method_types": ["card"],  # a saved card: 3-D Secure runs in Stripe.js, no redirect URL needed
        "metadata": {"organization": organization.public_id, "automatic": "1" if automatic else "0"},
    }
    card = f"{account.card_brand} •••• {account.card_last4}"
    key = f"top-up-{organization.public_id}-{idempotency_key or uuid.uuid4()}"
    repeated = (
        Payment.objects.filter(organization=organization, idempotency_key=key).first() if idempotency_key else None
    )
    if repeated is not None:
        return repeated  # a retry of a top-up already made (Stripe would answer it the same way)
    try:
        intent = client().v1.payment_intents.create(params, {"idempotency_key": key})
    except stripe.StripeError as error:
        if not _is_decline(error):
            raise _unavailable(error)
        # Stripe names the declined PaymentIntent in the error; record it now. (Either way its
        # payment_intent.payment_failed webhook records it too.)
        intent = _intent_of(error)
        reason = error.user_message or str(error)
        if intent is not None:
            reason = (
                record_intent(intent, card=card, automatic=automatic, idempotency_key=key).failure_message or reason
            )
        raise PaymentRefused(
            f"The payment was declined: {reason}", param="payment_method", code="card_declined", status=402
        )
    return record_intent(intent, card=card, automatic=automatic, idempotency_key=key)


@transaction.atomic
def _credit_without_payment(organization, amount: Decimal, actor: str, idempotency_key: str) -> None:
    """Ledger-only mode: credit with no money collected, which only the operator may allow
    (TUNERY_SELF_SERVICE_CREDITS; otherwise staff credit in the admin). A retry with the same
    idempotency key credits once."""
    if not settings.TUNERY_SELF_SERVICE_CREDITS:
        raise PaymentRefused(
            "Adding credit yourself is turned off on this server: ask its operator to add credit.",
            param="amount",
            code="self_service_credits_disabled",
            status=403,
        )
    key = f"top-up-{idempotency_key}" if idempotency_key else ""
    if key:
        ledger.locked_account(organization)  # a retry racing the first request waits for it here
        repeated = LedgerEntry.objects.filter(organization=organization, idempotency_key=key).first()
        if repeated is not None:
            if repeated.amount != amount:
                raise PaymentRefused(
                    f"This idempotency key was used for a top-up of {display(repeated.amount)}: "
                    "use a new key for another top-up.",
                    param="amount",
                    code="idempotency_key_reused",
                    status=409,
                )
            return  # a retry of a credit already made
    ledger.credit(
        organization,
        EntryKind.TOP_UP,
        amount,
        "Top-up (ledger-only mode: no payment collected)",
        created_by=actor,
        idempotency_key=key,
    )


def authentication_secret(payment: Payment) -> str:
    """The client secret with which Stripe.js shows the bank's 3-D Secure check for `payment`."""
    return _current_intent(payment).client_secret


def refresh(payment: Payment) -> Payment:
    """Where `payment` stands at Stripe now (after the customer authenticated it, say), recorded
    and credited once like any other reply or webhook."""
    return record_intent(_current_intent(payment))


def _current_intent(payment: Payment):
    _require_stripe()
    try:
        return client().v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
    except stripe.StripeError as error:
        raise _unavailable(error)


def _is_decline(error: stripe.StripeError) -> bool:
    return isinstance(error, stripe.CardError) or error.code in DECLINE_CODES


def _unavailable(error: stripe.StripeError) -> PaymentRefused:
    logger.warning("stripe error: %s", error)
    return PaymentRefused(
        f"The payment provider could not be reached or refused the request ({error.user_message or error}); "
        "nothing was charged. Try again later.",
        code="payment_provider_error",
        status=502,
    )


def _intent_of(error: stripe.StripeError):
    """The PaymentIntent a decline refers to (Stripe includes it in the error body)."""
    intent = (error.json_body or {}).get("error", {}).get("payment_intent")
    if isinstance(intent, dict) and intent.get("id"):
        return intent
    try:
        return client().v1.payment_intents.retrieve(intent) if isinstance(intent, str) else None
    except stripe.StripeError:
        return None


def record_intent(intent, *, card: str = "", automatic: bool | None = None, idempotency_key: str = "") -> Payment:
    """Bring our Payment in line with a PaymentIntent (from an API reply or a webhook),
    crediting the ledger the first time it is seen succeeded. Status only moves forward
    (pending → failed → succeeded): a late `processing` never hides a failure and a late
    `payment_failed` never undoes a success, whatever order events arrive in."""
    from tunery.orgs.models import Organization

    intent = intent.to_dict() if isinstance(intent, stripe.StripeObject) else intent
    organization = Organization.objects.get(public_id=intent["metadata"]["organization"])
    status = _status_of(intent)
    with transaction.atomic():
        # Created by the webhook at the same moment: get_or_create gets (and locks) that row.
        payment, _ = Payment.objects.select_for_update().get_or_create(
            stripe_payment_intent_id=intent["id"],
            defaults={
                "organization": organization,
                "amount": from_cents(intent["amount"]),
                "currency": intent["currency"],
                "automatic": automatic if automatic is not None else intent["metadata"].get("automatic") == "1",
                "card": card,
                "idempotency_key": idempotency_key,
            },
        )
        if idempotency_key and not payment.idempotency_key:  # the webhook got here first
            payment.idempotency_key = idempotency_key
            payment.save(update_fields=["idempotency_key"])
        if STATUS_RANK[status] >= STATUS_RANK[payment.status]:
            payment.status = status
            error = intent.get("last_payment_error") or {}
            payment.failure_message = (
                (error.get("message") or error.get("code") or "declined")[:300]
                if status == PaymentStatus.FAILED
                else ""
            )
            payment.receipt_url = payment.receipt_url or _receipt_url(intent)
            payment.save()
        if payment.status == PaymentStatus.SUCCEEDED and not payment.ledger_entries.exists():
            ledger.credit(
                organization,
                EntryKind.TOP_UP,
                payment.amount,
                f"Top-up{' (auto-recharge)' if payment.automatic else ''}: {payment.card or 'card'}",
                payment=payment,
            )
    return payment


# A failed PaymentIntent can still succeed (retried with another card); nothing comes after success.
STATUS_RANK = {
    PaymentStatus.PROCESSING: 0,
    PaymentStatus.REQUIRES_ACTION: 0,
    PaymentStatus.FAILED: 1,
    PaymentStatus.SUCCEEDED: 2,
}


def _status_of(intent) -> str:
    if intent["status"] == "succeeded":
        return PaymentStatus.SUCCEEDED
    if intent["status"] == "requires_action":
        return PaymentStatus.REQUIRES_ACTION
    if intent.get("last_payment_error") or intent["status"] in ("requires_payment_method", "canceled"):
        return PaymentStatus.FAILED
    return PaymentStatus.PROCESSING


def _receipt_url(intent) -> str:
    """Stripe's receipt for the payment: on the charge, which a webhook names only by id."""
    charge = intent.get("latest_charge")
    if isinstance(charge, str) and intent["status"] == "succeeded":
        try:
            charge = client().v1.charges.retrieve(charge).to_dict()
        except stripe.StripeError:
            return ""  # the receipt page still shows our own record of the payment
    return (charge.get("receipt_url") or "") if isinstance(charge, dict) else ""


def _require_stripe() -> None:
    if not stripe_enabled():
        raise PaymentRefused(
            "Payments are not configured on this server (ledger-only mode).", code="payments_disabled", status=409
        )
