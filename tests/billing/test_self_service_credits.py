"""Ledger-only mode (no Stripe keys): whether owners may credit their own organization is the
operator's decision (TUNERY_SELF_SERVICE_CREDITS), staff credit in the admin, and a retried
top-up credits once."""

from decimal import Decimal

from tests.conftest import make_user, signed_in
from tunery.billing import ledger
from tunery.billing.models import LedgerEntry


def _top_up(api, amount: str, key: str):
    return api.post("/v1/organization/billing/top_ups", {"amount": amount}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retried_ledger_only_top_up_credits_once(org_a, api_a, org_b, api_b):
    before = ledger.balance(org_a)
    for _ in range(2):  # a client retrying after a timeout, same key
        assert _top_up(api_a, "30.00", "order-7").status_code == 200
    assert ledger.balance(org_a) == before + Decimal("30")
    assert _top_up(api_a, "30.00", "order-8").status_code == 200  # a new key is a new top-up
    assert ledger.balance(org_a) == before + Decimal("60")
    before_b = ledger.balance(org_b)
    assert _top_up(api_b, "30.00", "order-7").status_code == 200  # keys are per organization
    assert ledger.balance(org_b) == before_b + Decimal("30")


def test_a_key_reused_for_another_amount_is_refused(org_a, api_a):
    _top_up(api_a, "30.00", "order-9")
    reply = _top_up(api_a, "50.00", "order-9")
    assert reply.status_code == 409 and reply.json()["error"]["code"] == "idempotency_key_reused"
    assert LedgerEntry.objects.filter(organization=org_a, kind="top_up").count() == 1


def test_a_double_click_on_the_page_credits_once(client, owner_a, org_a):
    signed_in(client, owner_a)
    for _ in range(2):
        client.post("/billing/top-up", {"amount": "12.50", "nonce": "same-form"})
    assert ledger.balance(org_a) == Decimal("22.50")


def test_owners_cannot_credit_themselves_unless_the_operator_allows_it(client, settings, owner_a, org_a, api_a):
    settings.TUNERY_SELF_SERVICE_CREDITS = False
    before = ledger.balance(org_a)
    reply = _top_up(api_a, "30.00", "order-1")
    assert reply.status_code == 403
    assert (
        reply.json()["error"]["code"] == "self_service_credits_disabled"
        and "operator" in reply.json()["error"]["message"]
    )
    page = signed_in(client, owner_a).post("/billing/top-up", {"amount": "30"}, follow=True).content.decode()
    assert "turned off on this server" in page
    assert 'id="operator-credit"' in page and 'id="top-up-form"' not in page
    assert ledger.balance(org_a) == before


def test_staff_add_credit_from_the_billing_account(client, settings, org_a):
    settings.TUNERY_SELF_SERVICE_CREDITS = False
    account = ledger.account_for(org_a)
    staff = make_user("root@tunery.test")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    page = signed_in(client, staff).get(f"/admin/billing/billingaccount/{account.pk}/change/").content.decode()
    link = f"/admin/billing/ledgerentry/add/?organization={org_a.pk}&amp;kind=adjustment"
    assert link in page
    form = client.get(link.replace("&amp;", "&")).content.decode()
    assert f'value="{org_a.pk}" selected' in form and 'value="adjustment" selected' in form
    before = ledger.balance(org_a)
    reply = client.post(
        "/admin/billing/ledgerentry/add/",
        {"organization": org_a.pk, "kind": "adjustment", "amount": "40.00", "description": "Invoice 12 paid"},
    )
    assert reply.status_code == 302
    assert ledger.balance(org_a) == before + Decimal("40")
    assert LedgerEntry.objects.get(kind="adjustment").created_by == "root@tunery.test"
