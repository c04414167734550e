"""Top-ups the bank holds for 3-D Secure: the web top-up is made on session, the customer
confirms it on the authenticate page (Stripe.js), and the payment is credited once it
succeeds. The bank's side is localstripe's own authentication endpoint, the call its
Stripe.js makes when the customer clicks "Complete authentication"."""

from decimal import Decimal

import httpx
import pytest

from tests.billing.conftest import card
from tunery.billing import ledger
from tunery.billing.models import LedgerEntry, Payment, PaymentStatus
from tunery.billing.payments import client as stripe_client
from tunery.billing.payments import set_payment_method

ALWAYS_AUTHENTICATE = "4000002760003184"  # Stripe's test card that asks for 3-D Secure on every payment


def bank_answers(localstripe_url: str, payment: Payment, success: bool) -> None:
    intent = stripe_client().v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
    reply = httpx.post(
        f"{localstripe_url}/v1/payment_intents/{intent.id}/_authenticate",
        params={"success": "true" if success else "false"},
        json={"key": "pk_test_tunery", "client_secret": intent.client_secret},
    )
    reply.raise_for_status()


@pytest.fixture
def held_top_up(client, stripe_on, owner_a, org_a):
    """An owner tops up $30 from the web with a card whose bank wants 3-D Secure."""
    set_payment_method(org_a, card(ALWAYS_AUTHENTICATE))
    client.force_login(owner_a)
    reply = client.post("/billing/top-up", {"amount": "30", "nonce": "n-1"})
    return reply, Payment.objects.get(organization=org_a)


def test_the_top_up_waits_for_the_bank_and_nothing_is_credited_yet(held_top_up, client, org_a):
    reply, payment = held_top_up

    assert payment.status == PaymentStatus.REQUIRES_ACTION
    assert reply.status_code == 302 and reply.url == f"/billing/payments/{payment.public_id}/authenticate"
    assert ledger.balance(org_a) == 0
    page = client.get(reply.url).content.decode()
    assert "Confirm the payment with your bank" in page and "$30.00" in page and 'data-client-secret="pi_' in page
    billing = client.get("/billing").content.decode()
    assert "Confirm with your bank" in billing  # the payments list links back to the check


def test_once_the_bank_confirms_the_credit_is_added_once(held_top_up, client, org_a, localstripe_url):
    _, payment = held_top_up
    bank_answers(localstripe_url, payment, success=True)

    page = client.post(f"/billing/payments/{payment.public_id}/refresh", follow=True).content.decode()
    client.post(f"/billing/payments/{payment.public_id}/refresh")  # asked twice: still one credit

    assert "Payment of $30.00 succeeded" in page
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert ledger.balance(org_a) == Decimal("30")
    assert LedgerEntry.objects.filter(payment=payment).count() == 1
    # Nothing left to confirm: the authenticate page sends the customer back to billing.
    assert client.get(f"/billing/payments/{payment.public_id}/authenticate").url == "/billing"


def test_a_failed_check_is_recorded_as_a_failed_payment(held_top_up, client, org_a, localstripe_url):
    _, payment = held_top_up
    bank_answers(localstripe_url, payment, success=False)

    page = client.post(f"/billing/payments/{payment.public_id}/refresh", follow=True).content.decode()

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED and "failed authentication" in payment.failure_message
    assert "The payment of $30.00 failed" in page
    assert ledger.balance(org_a) == 0


def test_another_organization_cannot_see_or_refresh_the_payment(held_top_up, client, outsider_b, org_b):
    _, payment = held_top_up
    client.force_login(outsider_b)

    assert client.get(f"/billing/payments/{payment.public_id}/authenticate").status_code == 404
    assert client.post(f"/billing/payments/{payment.public_id}/refresh").status_code == 404


def test_a_member_without_billing_rights_cannot_refresh(held_top_up, client, member_a):
    _, payment = held_top_up
    client.force_login(member_a)

    assert client.post(f"/billing/payments/{payment.public_id}/refresh").status_code in (403, 404)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REQUIRES_ACTION
