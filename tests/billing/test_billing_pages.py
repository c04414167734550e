"""The billing page, its CSV export and receipts, and the operators' revenue view."""

import csv
import io
from decimal import Decimal

from tests.conftest import make_user, signed_in
from tunery.billing import ledger
from tunery.billing.models import EntryKind, LedgerEntry, Payment, PaymentStatus


def _payment(org, **fields):
    return Payment.objects.create(
        organization=org,
        stripe_payment_intent_id=f"pi_{org.public_id}",
        amount=Decimal("20"),
        status=PaymentStatus.SUCCEEDED,
        card="visa •••• 4242",
        **fields,
    )


def test_the_page_shows_balance_ledger_and_chart_data(client, owner_a, org_a):
    LedgerEntry.objects.create(
        organization=org_a, kind=EntryKind.USAGE_CHARGE, amount=Decimal("-1.25"), description="Inference tiny-llama"
    )
    page = signed_in(client, owner_a).get("/billing").content.decode()
    assert 'id="balance">$8.75<' in page
    assert "Inference tiny-llama" in page and "Trial credit" in page
    assert 'id="spend-data"' in page and "Ledger-only mode" in page


def test_owners_add_credit_in_ledger_only_mode_and_viewers_cannot(client, owner_a, viewer_a, org_a):
    signed_in(client, owner_a).post("/billing/top-up", {"amount": "12.50"})
    assert ledger.balance(org_a) == Decimal("22.50")
    bad = client.post("/billing/top-up", {"amount": "2"}, follow=True).content.decode()
    assert "between $5.00 and $10,000.00" in bad and ledger.balance(org_a) == Decimal("22.50")
    signed_in(client, viewer_a)
    assert client.post("/billing/top-up", {"amount": "50"}).status_code == 403
    assert "Owners and admins can add credit" in client.get("/billing").content.decode()


def test_settings_form_sets_the_spend_limit(client, owner_a, org_a):
    reply = signed_in(client, owner_a).post("/billing/settings", {"monthly_spend_limit": "40"}, follow=True)
    assert "Billing settings saved" in reply.content.decode()
    assert ledger.account_for(org_a).monthly_spend_limit == Decimal("40")
    reply = client.post("/billing/settings", {"monthly_spend_limit": "forty"}, follow=True)
    assert "monthly_spend_limit must be an amount" in reply.content.decode()
    client.post("/billing/settings", {"monthly_spend_limit": ""})
    assert ledger.account_for(org_a).monthly_spend_limit is None


def test_the_ledger_exports_as_csv(client, owner_a, org_a):
    ledger.credit(org_a, EntryKind.TOP_UP, Decimal("5"), "Top-up, with a comma")
    reply = signed_in(client, owner_a).get("/billing/ledger.csv")
    assert reply["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(reply.streaming_content).decode())))
    assert [(r["kind"], r["amount_usd"]) for r in rows] == [("trial", "10.000000"), ("top_up", "5.000000")]
    assert rows[1]["description"] == "Top-up, with a comma"


def test_receipts_belong_to_their_organization(client, owner_a, outsider_b, org_a):
    payment = _payment(org_a)
    page = signed_in(client, owner_a).get(f"/billing/receipts/{payment.public_id}").content.decode()
    assert "$20.00" in page and "visa •••• 4242" in page and payment.stripe_payment_intent_id in page
    signed_in(client, outsider_b)
    assert client.get(f"/billing/receipts/{payment.public_id}").status_code == 404
    exported = b"".join(client.get("/billing/ledger.csv").streaming_content).decode()
    assert exported.count("\n") == 2 and ",trial," in exported  # the header and B's own trial credit
    assert payment.public_id not in client.get("/billing").content.decode()


def test_operators_see_revenue_and_failed_payments(client, owner_a, org_a, org_b):
    _payment(org_a)
    ledger.credit(org_a, EntryKind.TOP_UP, Decimal("20"), "paid", payment=Payment.objects.get())
    Payment.objects.create(
        organization=org_b,
        stripe_payment_intent_id="pi_failed",
        amount=Decimal("9"),
        status=PaymentStatus.FAILED,
        failure_message="Your card was declined.",
    )
    ledger.account_for(org_b)
    assert signed_in(client, owner_a).get("/staff/billing").status_code == 302  # not staff: to the admin login
    staff = make_user("ops@tunery.test")
    staff.is_staff = True
    staff.save()
    page = signed_in(client, staff).get("/staff/billing").content.decode()
    assert "Org A" in page and "$20.00" in page
    assert "pi_failed" in page and "Your card was declined." in page


def test_the_dashboard_shows_balance_and_spend(client, owner_a, org_a):
    LedgerEntry.objects.create(
        organization=org_a, kind=EntryKind.USAGE_CHARGE, amount=Decimal("-0.75"), description="usage"
    )
    page = signed_in(client, owner_a).get("/").content.decode()
    assert 'id="dashboard-balance"><span class="value">$9.25<' in page
    assert 'id="dashboard-spend"><span class="value">$0.75<' in page


def test_operators_add_prices_in_the_admin_but_never_edit_one(client, tiny_base):
    from tunery.billing.models import Price

    staff = make_user("root@tunery.test")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    signed_in(client, staff)
    old = Price.objects.get(base_model=tiny_base)
    page = client.get(f"/admin/billing/price/{old.pk}/change/").content.decode()
    assert 'name="_save"' not in page  # read-only: view, no save
    assert client.post(f"/admin/billing/price/{old.pk}/change/", {"training_per_million": "9"}).status_code == 403
    reply = client.post(
        "/admin/billing/price/add/",
        {
            "base_model": tiny_base.pk,
            "training_per_million": "0.80",
            "input_per_million": "0.10",
            "output_per_million": "0.20",
            "effective_from_0": "2026-01-01",
            "effective_from_1": "00:00:00",
        },
    )
    assert reply.status_code == 302
    assert Price.objects.filter(base_model=tiny_base).count() == 2
    assert Price.objects.get(pk=old.pk).training_per_million == Decimal("0.50")
