"""Monthly spend limits: jobs refused past them, notices at 80% and 100% (once each), and
inference refused with OpenAI's 429 insufficient_quota when credit or the limit runs out."""

from decimal import Decimal

import openai
import pytest
from django.core import mail

from tests.billing.conftest import set_balance
from tests.conftest import key_client
from tunery.api.errors import ApiError
from tunery.billing import ledger
from tunery.billing.limits import after_spend, check_inference_allowed
from tunery.billing.models import BillingAccount, EntryKind, LedgerEntry, SpendNotice


def _body(training_file, n_epochs=1):
    return {"model": "tiny-llama", "training_file": training_file.public_id, "hyperparameters": {"n_epochs": n_epochs}}


def _limit(organization, amount: str) -> None:
    ledger.account_for(organization)
    BillingAccount.objects.filter(organization=organization).update(monthly_spend_limit=Decimal(amount))


def test_a_job_past_the_monthly_limit_is_refused(api_a, org_a, tiny_base, training_file_a):
    estimate = Decimal(
        api_a.post("/v1/fine_tuning/jobs/estimate", _body(training_file_a), format="json").json()["estimated_cost"]
    )
    _limit(org_a, str(estimate / 2))
    reply = api_a.post("/v1/fine_tuning/jobs", _body(training_file_a), format="json")
    assert reply.status_code == 402
    assert reply.json()["error"]["code"] == "spend_limit_reached"
    assert "monthly spend limit" in reply.json()["error"]["message"]


def test_notices_at_80_and_100_percent_are_sent_once(org_a, owner_a, member_a):
    _limit(org_a, "10.00")
    LedgerEntry.objects.create(
        organization=org_a, kind=EntryKind.USAGE_CHARGE, amount=Decimal("-8.50"), description="usage"
    )
    after_spend(org_a)
    after_spend(org_a)
    assert list(SpendNotice.objects.filter(organization=org_a).values_list("percent", flat=True)) == [80]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [owner_a.email]  # owners and admins, not members
    assert "80%" in mail.outbox[0].subject

    LedgerEntry.objects.create(
        organization=org_a, kind=EntryKind.USAGE_CHARGE, amount=Decimal("-1.50"), description="usage"
    )
    after_spend(org_a)
    assert sorted(SpendNotice.objects.filter(organization=org_a).values_list("percent", flat=True)) == [80, 100]
    assert "reached its monthly spend limit" in mail.outbox[1].subject


def test_the_billing_page_shows_the_notice(client, owner_a, org_a):
    _limit(org_a, "1.00")
    LedgerEntry.objects.create(
        organization=org_a, kind=EntryKind.USAGE_CHARGE, amount=Decimal("-0.90"), description="usage"
    )
    after_spend(org_a)
    client.force_login(owner_a)
    page = client.get("/billing").content.decode()
    assert 'id="spend-notice-80"' in page and "used 80% of its monthly spend limit of $1.00" in page
    assert 'id="spend-notice-100"' not in page


@pytest.fixture
def openai_a(gateway_url, org_a, tiny_base):
    return openai.OpenAI(base_url=gateway_url + "/v1", api_key=key_client(org_a).secret, max_retries=0)


def test_inference_without_credit_is_refused_with_insufficient_quota(openai_a, org_a):
    set_balance(org_a, "0")
    with pytest.raises(openai.RateLimitError) as refused:
        openai_a.chat.completions.create(model="tiny-llama", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    assert refused.value.code == "insufficient_quota"
    assert refused.value.body["type"] == "insufficient_quota"
    assert "Top up" in refused.value.message

    set_balance(org_a, "1.00")
    reply = openai_a.chat.completions.create(
        model="tiny-llama", messages=[{"role": "user", "content": "hi"}], max_tokens=2
    )
    assert reply.choices


def test_inference_past_the_spend_limit_is_refused(openai_a, org_a):
    _limit(org_a, "0.50")
    LedgerEntry.objects.create(
        organization=org_a, kind=EntryKind.USAGE_CHARGE, amount=Decimal("-0.50"), description="usage"
    )
    with pytest.raises(openai.RateLimitError) as refused:
        openai_a.completions.create(model="tiny-llama", prompt="hi", max_tokens=2)
    assert refused.value.code == "insufficient_quota" and "spend limit" in refused.value.message


def test_an_allowed_organization_is_checked_from_the_cache_until_it_is_charged(org_a, django_assert_num_queries):
    check_inference_allowed(org_a)  # reads the ledger, and remembers the yes
    with django_assert_num_queries(0):
        check_inference_allowed(org_a)

    set_balance(org_a, "0")
    LedgerEntry.objects.create(
        organization=org_a, kind=EntryKind.USAGE_CHARGE, amount=Decimal("-0.01"), description="usage"
    )
    after_spend(org_a)  # what every charge runs once committed: the yes is forgotten
    with pytest.raises(ApiError) as refused:
        check_inference_allowed(org_a)
    assert refused.value.status_code == 429


def test_a_refusal_is_not_remembered(org_a):
    set_balance(org_a, "0")
    with pytest.raises(ApiError):
        check_inference_allowed(org_a)
    set_balance(org_a, "5")  # a top-up
    check_inference_allowed(org_a)
