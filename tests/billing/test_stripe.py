"""Stripe through the real SDK against localstripe: a Customer per organization, a saved card,
top-ups credited once, declines recorded and shown, auto-recharge."""

from decimal import Decimal

import pytest

from tests.billing.conftest import card, event, set_balance, signed
from tunery.billing import ledger
from tunery.billing.auto_recharge import recharge_if_low
from tunery.billing.models import BillingAccount, EntryKind, LedgerEntry, Payment, PaymentStatus
from tunery.billing.payments import client, ensure_customer, record_intent, set_payment_method, top_up


def client_api():
    return client().v1


def test_one_customer_per_organization(stripe_on, org_a):
    account = ledger.account_for(org_a)
    customer = ensure_customer(account)
    assert customer.startswith("cus_")
    assert ensure_customer(BillingAccount.objects.get(pk=account.pk)) == customer
    assert client().v1.customers.retrieve(customer).metadata["organization"] == org_a.public_id


def test_a_card_is_saved_and_a_top_up_is_credited_once(stripe_on, org_a, api_a):
    before = ledger.balance(org_a)
    reply = api_a.post("/v1/organization/billing/payment_method", {"payment_method": card()}, format="json")
    assert reply.status_code == 200, reply.json()
    assert reply.json()["payment_method"]["last4"] == "4242"

    reply = api_a.post("/v1/organization/billing/top_ups", {"amount": "25.00"}, format="json")
    assert reply.status_code == 200, reply.json()
    payment = reply.json()["payment"]
    assert payment["status"] == "succeeded" and payment["amount"] == "25.000000"
    assert Decimal(reply.json()["billing"]["balance"]) == before + Decimal("25")

    # The same PaymentIntent seen again (as the webhook will deliver it) credits nothing more.
    stored = Payment.objects.get(public_id=payment["id"])
    record_intent(client().v1.payment_intents.retrieve(stored.stripe_payment_intent_id))
    assert ledger.balance(org_a) == before + Decimal("25")
    assert LedgerEntry.objects.filter(payment=stored).count() == 1
    intent = client().v1.payment_intents.retrieve(stored.stripe_payment_intent_id)
    assert (
        intent.amount == 2500 and intent.customer == BillingAccount.objects.get(organization=org_a).stripe_customer_id
    )


def test_a_declined_payment_is_refused_recorded_and_shown(stripe_on, org_a, api_a, client, owner_a):
    before = ledger.balance(org_a)
    set_payment_method(org_a, card("4000000000000341"))  # attaches, then every charge is declined
    reply = api_a.post("/v1/organization/billing/top_ups", {"amount": "10.00"}, format="json")
    assert reply.status_code == 402
    assert reply.json()["error"]["code"] == "card_declined"
    assert "declined" in reply.json()["error"]["message"]
    assert ledger.balance(org_a) == before

    # Stripe's payment_intent.payment_failed event records the attempt (localstripe, unlike
    # Stripe, leaves the PaymentIntent out of the decline error, so here the event does it).
    intent = next(
        i.to_dict()
        for i in client_api().payment_intents.list().data
        if i.to_dict()["metadata"].get("organization") == org_a.public_id
    )
    body, header = signed(event("evt_declined", "payment_intent.payment_failed", intent))
    assert (
        client.post(
            "/billing/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        ).status_code
        == 200
    )
    failed = Payment.objects.get(organization=org_a)
    assert failed.status == PaymentStatus.FAILED and "declined" in failed.failure_message
    assert ledger.balance(org_a) == before
    client.force_login(owner_a)
    page = client.get("/billing").content.decode()
    assert 'id="payment-failed"' in page and "failed: Your card was declined." in page


def test_a_card_declined_when_saved_says_so(stripe_on, org_a, api_a):
    reply = api_a.post(
        "/v1/organization/billing/payment_method", {"payment_method": card("4000000000000002")}, format="json"
    )
    assert reply.status_code == 402 and reply.json()["error"]["code"] == "card_declined"
    assert not BillingAccount.objects.get(organization=org_a).has_card


def test_top_up_amounts_are_checked(stripe_on, org_a, api_a):
    set_payment_method(org_a, card())
    for amount, status in (("4.99", 400), ("10000.01", 400), ("ten", 400), ("1.005", 400), (True, 400)):
        reply = api_a.post("/v1/organization/billing/top_ups", {"amount": amount}, format="json")
        assert reply.status_code == status and reply.json()["error"]["param"] == "amount", amount
    assert not Payment.objects.exists()


def test_members_cannot_pay_and_others_cannot_see(stripe_on, org_a, member_a, api_b):
    from tests.conftest import key_client
    from tunery.orgs.roles import Scope

    member_key = key_client(org_a, scopes=[Scope.READ, Scope.FINE_TUNE, Scope.INFERENCE])
    assert member_key.post("/v1/organization/billing/top_ups", {"amount": "25.00"}, format="json").status_code == 403
    set_payment_method(org_a, card())
    top_up(org_a, Decimal("30.00"))
    assert api_b.get("/v1/organization/billing/top_ups").json()["data"] == []
    assert all(e["kind"] == "trial" for e in api_b.get("/v1/organization/billing/ledger").json()["data"])


def test_auto_recharge_tops_up_once_when_the_balance_falls_low(stripe_on, org_a, api_a):
    set_payment_method(org_a, card())
    reply = api_a.patch(
        "/v1/organization/billing",
        {"auto_recharge": {"enabled": True, "threshold": "5.00", "amount": "20.00"}},
        format="json",
    )
    assert reply.status_code == 200 and reply.json()["auto_recharge"]["enabled"] is True
    set_balance(org_a, "4.00")

    payment = recharge_if_low(org_a.pk)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.automatic
    assert ledger.balance(org_a) == Decimal("24.00")
    set_balance(org_a, "1.00")
    assert recharge_if_low(org_a.pk) is None  # one recharge per quiet period, never a loop
    assert Payment.objects.filter(organization=org_a, automatic=True).count() == 1


def test_auto_recharge_needs_a_card(stripe_on, org_a, api_a):
    reply = api_a.patch("/v1/organization/billing", {"auto_recharge": {"enabled": True}}, format="json")
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "no_payment_method"


def test_ledger_only_mode_adds_credit_without_a_payment(org_a, api_a):
    before = ledger.balance(org_a)
    reply = api_a.post("/v1/organization/billing/top_ups", {"amount": "15.00"}, format="json")
    assert reply.status_code == 200 and reply.json()["payment"] is None
    assert reply.json()["billing"]["mode"] == "ledger_only"
    assert ledger.balance(org_a) == before + Decimal("15")
    assert LedgerEntry.objects.filter(organization=org_a, kind=EntryKind.TOP_UP, payment=None).exists()
    assert (
        api_a.post("/v1/organization/billing/payment_method", {"payment_method": "pm_x"}, format="json").status_code
        == 409
    )


@pytest.mark.parametrize(
    "body", [{"monthly_spend_limit": "-1"}, {"monthly_spend_limit": "abc"}, {"surprise": 1}, {"auto_recharge": "yes"}]
)
def test_bad_settings_name_the_field(api_a, body):
    reply = api_a.patch("/v1/organization/billing", body, format="json")
    assert reply.status_code == 400 and reply.json()["error"]["param"]


def test_the_web_top_up_charges_the_card_and_says_so(client, stripe_on, owner_a, org_a):
    set_payment_method(org_a, card())
    before = ledger.balance(org_a)
    client.force_login(owner_a)
    page = client.post("/billing/top-up", {"amount": "25"}, follow=True).content.decode()
    assert "Payment of $25.00 succeeded" in page
    assert ledger.balance(org_a) == before + Decimal("25")
    assert "visa •••• 4242" in page  # the card on file and the payment's card


def test_a_card_saved_through_a_setup_intent(stripe_on, org_a, api_a, api_b):
    secret = api_a.post("/v1/organization/billing/card_setup").json()["client_secret"]
    setup_id = secret.split("_secret_")[0]
    # What Stripe.js confirmCardSetup does in the browser.
    client_api().setup_intents.confirm(
        setup_id,
        {
            "payment_method_data": {
                "type": "card",
                "card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2035, "cvc": "123"},
            }
        },
    )
    assert (
        api_b.post("/v1/organization/billing/payment_method", {"setup_intent": setup_id}, format="json").status_code
        == 404
    )  # not theirs
    reply = api_a.post("/v1/organization/billing/payment_method", {"setup_intent": setup_id}, format="json")
    assert reply.status_code == 200, reply.json()
    assert reply.json()["payment_method"] == {"brand": "visa", "last4": "4242", "exp": "01/2035"}
    assert top_up(org_a, Decimal("10.00")).status == PaymentStatus.SUCCEEDED


def test_an_unconfirmed_setup_is_not_saved(stripe_on, org_a, api_a):
    setup_id = api_a.post("/v1/organization/billing/card_setup").json()["client_secret"].split("_secret_")[0]
    reply = api_a.post("/v1/organization/billing/payment_method", {"setup_intent": setup_id}, format="json")
    assert reply.status_code == 402 and "requires payment method" in reply.json()["error"]["message"]
    assert not BillingAccount.objects.get(organization=org_a).has_card


def test_a_charge_below_the_threshold_starts_the_recharge_by_itself(
    stripe_on, org_a, api_a, tiny_base, django_capture_on_commit_callbacks
):
    """The whole chain: usage is charged, the balance drops below the threshold, the real
    Celery task (run inline here) charges the card once."""
    from tunery.celery import app
    from tunery.inference import metering
    from tunery.inference.charges import charge_pending_usage

    app.conf.task_always_eager = True
    try:
        set_payment_method(org_a, card())
        api_a.patch(
            "/v1/organization/billing",
            {"auto_recharge": {"enabled": True, "threshold": "5.00", "amount": "50.00"}},
            format="json",
        )
        set_balance(org_a, "5.10")
        metering.record(
            organization=org_a,
            api_key=None,
            model="tiny-llama",
            base_model=tiny_base,
            endpoint="completions",
            stream=False,
            status_code=200,
            usage={"prompt_tokens": 1_000_000, "completion_tokens": 0},
            latency_ms=5,
        )  # $0.10 + a bit
        metering.record(
            organization=org_a,
            api_key=None,
            model="tiny-llama",
            base_model=tiny_base,
            endpoint="completions",
            stream=False,
            status_code=200,
            usage={"prompt_tokens": 100_000, "completion_tokens": 0},
            latency_ms=5,
        )
        with django_capture_on_commit_callbacks(execute=True):
            charge_pending_usage()
    finally:
        app.conf.task_always_eager = False
    payment = Payment.objects.get(organization=org_a, automatic=True)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.amount == Decimal("50")
    assert ledger.balance(org_a) == Decimal("5.10") - Decimal("0.11") + Decimal("50")
