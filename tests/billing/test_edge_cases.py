"""Edge cases: oversized amounts, events in odd orders, limits that change, retried top-ups,
a mail server that is down, and staff credits."""

from decimal import Decimal

from django.core import mail

from tests.billing.conftest import card, event, signed
from tests.conftest import make_user, signed_in
from tunery.billing import ledger
from tunery.billing.limits import after_spend
from tunery.billing.models import BillingAccount, EntryKind, LedgerEntry, Payment, PaymentStatus, SpendNotice
from tunery.billing.payments import set_payment_method


def test_absurd_amounts_are_refused_not_crashed_on(api_a, client, owner_a, org_a):
    for value in ("1e20", "1e30", "NaN", "Infinity", 10**15):
        reply = api_a.patch("/v1/organization/billing", {"monthly_spend_limit": value}, format="json")
        assert reply.status_code == 400 and reply.json()["error"]["param"] == "monthly_spend_limit", value
    signed_in(client, owner_a)
    assert (
        "between $5.00 and $10,000.00"
        in client.post("/billing/top-up", {"amount": "1e30"}, follow=True).content.decode()
    )
    assert (
        "must be an amount"
        in client.post("/billing/settings", {"monthly_spend_limit": "1e30"}, follow=True).content.decode()
    )


def test_a_late_processing_event_does_not_hide_a_failure(client, stripe_on, org_a):
    base = {
        "id": "pi_order_test",
        "object": "payment_intent",
        "amount": 900,
        "currency": "usd",
        "metadata": {"organization": org_a.public_id},
    }
    failed = {
        **base,
        "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
    }
    processing = {**base, "status": "processing", "last_payment_error": None}
    for event_id, kind, obj in (
        ("evt_f", "payment_intent.payment_failed", failed),
        ("evt_p", "payment_intent.processing", processing),
    ):
        body, header = signed(event(event_id, kind, obj))
        assert (
            client.post(
                "/billing/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
            ).status_code
            == 200
        )
    payment = Payment.objects.get(stripe_payment_intent_id="pi_order_test")
    assert payment.status == PaymentStatus.FAILED and payment.failure_message == "Your card was declined."


def test_notices_follow_the_current_limit(client, owner_a, org_a):
    ledger.account_for(org_a)
    BillingAccount.objects.filter(organization=org_a).update(monthly_spend_limit=Decimal("1.00"))
    LedgerEntry.objects.create(
        organization=org_a, kind=EntryKind.USAGE_CHARGE, amount=Decimal("-1.00"), description="usage"
    )
    after_spend(org_a)
    assert len(mail.outbox) == 2  # 80% and 100%
    BillingAccount.objects.filter(organization=org_a).update(monthly_spend_limit=Decimal("100.00"))
    page = signed_in(client, owner_a).get("/billing").content.decode()
    assert "spend-notice" not in page  # the old limit's notices no longer apply

    LedgerEntry.objects.create(
        organization=org_a, kind=EntryKind.USAGE_CHARGE, amount=Decimal("-84.00"), description="usage"
    )
    after_spend(org_a)
    assert len(mail.outbox) == 3 and "80%" in mail.outbox[-1].subject  # the new limit gets its own
    assert SpendNotice.objects.filter(organization=org_a, limit=Decimal("100")).count() == 1


def test_a_retried_top_up_is_one_charge(stripe_on, org_a, api_a):
    set_payment_method(org_a, card())
    before = ledger.balance(org_a)
    for _ in range(2):  # a client retrying after a timeout, same key
        reply = api_a.post(
            "/v1/organization/billing/top_ups", {"amount": "30.00"}, format="json", HTTP_IDEMPOTENCY_KEY="order-7"
        )
        assert reply.status_code == 200
    assert Payment.objects.filter(organization=org_a).count() == 1
    assert ledger.balance(org_a) == before + Decimal("30")
    api_a.post("/v1/organization/billing/top_ups", {"amount": "30.00"}, format="json", HTTP_IDEMPOTENCY_KEY="order-8")
    assert ledger.balance(org_a) == before + Decimal("60")


def test_a_mail_server_that_is_down_does_not_fail_the_job(
    api_a, org_a, tiny_base, training_file_a, settings, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("tunery.jobs.services.enqueue_preparation", lambda job: None)
    body = {"model": "tiny-llama", "training_file": training_file_a.public_id}
    estimate = Decimal(api_a.post("/v1/fine_tuning/jobs/estimate", body, format="json").json()["estimated_cost"])
    ledger.account_for(org_a)
    BillingAccount.objects.filter(organization=org_a).update(monthly_spend_limit=estimate)  # this job reaches 100%
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True):
        reply = api_a.post("/v1/fine_tuning/jobs", body, format="json")
    assert reply.status_code == 200
    assert not SpendNotice.objects.exists()  # not sent, so not recorded: the next charge retries

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    after_spend(org_a)
    assert SpendNotice.objects.filter(organization=org_a).count() == 2 and len(mail.outbox) == 2


def test_staff_credits_are_positive_and_stay_in_their_organization(client, org_a, org_b, succeeded_job):
    staff = make_user("root@tunery.test")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    signed_in(client, staff)
    form = {
        "organization": org_b.pk,
        "kind": "refund",
        "amount": "5.00",
        "description": "sorry",
        "job": succeeded_job.pk,
    }
    page = client.post("/admin/billing/ledgerentry/add/", form).content.decode()
    assert "belongs to another organization" in page
    page = client.post(
        "/admin/billing/ledgerentry/add/", {**form, "organization": org_a.pk, "amount": "-5"}
    ).content.decode()
    assert "A credit is a positive amount" in page
    before = ledger.balance(org_a)
    assert client.post("/admin/billing/ledgerentry/add/", {**form, "organization": org_a.pk}).status_code == 302
    assert ledger.balance(org_a) == before + Decimal("5")
    assert LedgerEntry.objects.get(kind=EntryKind.REFUND).created_by == "root@tunery.test"
