"""The Stripe webhook with genuinely signed payloads: correct, wrong signature, replayed, out
of order — and localstripe delivering its own signed events to a running server."""

from decimal import Decimal

import httpx

from tests.billing.conftest import WEBHOOK_SECRET, card, event, signed
from tests.conftest import serve, wait_for
from tunery.billing import ledger
from tunery.billing.models import Payment, PaymentStatus, StripeEvent
from tunery.billing.payments import client, ensure_customer, set_payment_method


def _intent(org, amount_cents=1500, number="4242424242424242", confirm=True):
    """A real PaymentIntent made on localstripe, as Stripe would put it in an event."""
    account = set_payment_method(org, card(number))
    params = {
        "amount": amount_cents,
        "currency": "usd",
        "customer": ensure_customer(account),
        "payment_method": account.stripe_payment_method_id,
        "metadata": {"organization": org.public_id, "automatic": "0"},
    }
    if confirm:
        params.update(confirm=True, off_session=True)
    return client().v1.payment_intents.create(params).to_dict()


def _post(client_, payload, **kwargs):
    body, header = signed(payload, **kwargs)
    return client_.post("/billing/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def test_a_signed_success_credits_the_organization(client, stripe_on, org_a):
    before = ledger.balance(org_a)
    intent = _intent(org_a)
    reply = _post(client, event("evt_1", "payment_intent.succeeded", intent))
    assert reply.status_code == 200 and reply.json()["applied"] is True
    assert ledger.balance(org_a) == before + Decimal("15")
    assert Payment.objects.get(stripe_payment_intent_id=intent["id"]).status == PaymentStatus.SUCCEEDED


def test_a_wrong_signature_is_refused_and_changes_nothing(client, stripe_on, org_a):
    before = ledger.balance(org_a)
    reply = _post(client, event("evt_2", "payment_intent.succeeded", _intent(org_a)), secret="whsec_someone_else")
    assert reply.status_code == 400
    assert (
        client.post("/billing/stripe/webhook/", b"{}", content_type="application/json").status_code == 400
    )  # unsigned
    assert ledger.balance(org_a) == before and not StripeEvent.objects.exists()


def test_a_replayed_event_is_applied_once(client, stripe_on, org_a):
    before = ledger.balance(org_a)
    payload = event("evt_3", "payment_intent.succeeded", _intent(org_a))
    assert _post(client, payload).json()["applied"] is True
    replay = _post(client, payload)
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    # The same PaymentIntent in a different event (Stripe may send both) credits nothing either.
    assert _post(client, event("evt_3b", "payment_intent.succeeded", payload["data"]["object"])).status_code == 200
    assert ledger.balance(org_a) == before + Decimal("15")


def test_events_out_of_order_never_undo_a_success(client, stripe_on, org_a):
    before = ledger.balance(org_a)
    succeeded = _intent(org_a)
    failed_view = {
        **succeeded,
        "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
    }
    _post(client, event("evt_4", "payment_intent.succeeded", succeeded))
    _post(
        client, event("evt_5", "payment_intent.payment_failed", failed_view)
    )  # an earlier attempt's failure, delivered late
    payment = Payment.objects.get(stripe_payment_intent_id=succeeded["id"])
    assert payment.status == PaymentStatus.SUCCEEDED and payment.failure_message == ""
    assert ledger.balance(org_a) == before + Decimal("15")


def test_a_failure_then_a_success_ends_credited(client, stripe_on, org_a):
    before = ledger.balance(org_a)
    succeeded = _intent(org_a)
    failed_view = {
        **succeeded,
        "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
    }
    _post(client, event("evt_6", "payment_intent.payment_failed", failed_view))
    assert Payment.objects.get(stripe_payment_intent_id=succeeded["id"]).status == PaymentStatus.FAILED
    assert ledger.balance(org_a) == before
    _post(client, event("evt_7", "payment_intent.succeeded", succeeded))  # retried with another card
    assert ledger.balance(org_a) == before + Decimal("15")


def test_events_of_other_kinds_or_other_apps_are_acknowledged(client, stripe_on, org_a):
    assert _post(client, event("evt_8", "customer.created", {"id": "cus_x"})).json()["applied"] is False
    stranger = {**_intent(org_a), "metadata": {"organization": "org-not-ours"}}
    assert _post(client, event("evt_9", "payment_intent.succeeded", stranger)).status_code == 200


def test_localstripe_delivers_signed_webhooks_to_the_running_app(transactional_db, stripe_on, org_a):
    """End to end: localstripe signs and POSTs the event itself; the app credits once."""
    from tunery.asgi import application

    before = ledger.balance(org_a)
    with serve(application) as app_url:
        httpx.post(
            f"{stripe_on}/_config/webhooks/tunery",
            data={
                "url": app_url + "/billing/stripe/webhook/",
                "secret": WEBHOOK_SECRET,
                "events[]": ["payment_intent.succeeded"],
            },
        ).raise_for_status()
        try:
            intent = _intent(org_a, amount_cents=4200)
            wait_for(lambda: StripeEvent.objects.filter(type="payment_intent.succeeded").exists(), timeout=30)
        finally:  # other tests must not get deliveries to a server that is gone
            httpx.post(
                f"{stripe_on}/_config/webhooks/tunery",
                data={"url": "http://127.0.0.1:9/", "secret": WEBHOOK_SECRET, "events[]": ["none"]},
            )
    assert Payment.objects.get(stripe_payment_intent_id=intent["id"]).status == PaymentStatus.SUCCEEDED
    assert ledger.balance(org_a) == before + Decimal("42")


def test_a_signed_body_that_is_not_an_event_is_refused(client, db, stripe_on):
    assert _post(client, {"object": "event"}).status_code == 400
    assert not StripeEvent.objects.exists()
