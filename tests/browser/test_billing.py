"""The billing page in headless Chromium: balance, spend chart, adding credit in ledger-only
mode, the spend limit, and the ledger growing."""

from decimal import Decimal

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.billing.conftest import localstripe_url, stripe_on  # noqa: F401  (fixtures)
from tests.browser.helpers import log_in, screenshot, wait_for
from tunery.billing.models import EntryKind, LedgerEntry, UsagePeriod

pytestmark = pytest.mark.browser


def _submit(browser, form: str, field: str, value: str) -> None:
    element = browser.find_element(By.CSS_SELECTOR, f"{form} input[name={field}]")
    element.clear()
    element.send_keys(value)
    browser.find_element(By.CSS_SELECTOR, f"{form} button[type=submit]").click()


def test_an_owner_adds_credit_and_sets_a_limit(live_server, browser, owner_a, org_a):
    period = UsagePeriod.objects.create(organization=org_a, model="tiny-llama", day=timezone.now().date())
    LedgerEntry.objects.create(
        organization=org_a,
        kind=EntryKind.USAGE_CHARGE,
        amount=Decimal("-2.50"),
        usage_period=period,
        description="Inference tiny-llama",
    )
    log_in(browser, live_server, owner_a)
    browser.get(live_server.url + "/billing")
    assert wait_for(browser, "#balance").text == "$7.50"
    # The chart drew one stacked series for the day's inference.
    drawn = browser.execute_script(
        "return Chart.getChart('spend-chart').data.datasets.map(d => [d.label, d.data.reduce((a, b) => a + b, 0)])"
    )
    assert drawn == [["Inference: tiny-llama", 2.5]]

    _submit(browser, "#top-up-form", "amount", "20")
    wait_for(browser, ".messages", text="Added $20.00 of credit")
    assert wait_for(browser, "#balance").text == "$27.50"
    assert "Top-up (ledger-only mode" in browser.find_element(By.ID, "ledger").text

    _submit(browser, "#settings-form", "monthly_spend_limit", "3")
    wait_for(browser, ".messages", text="Billing settings saved")
    assert "of $3.00" in browser.find_element(By.ID, "month-spend").find_element(By.XPATH, "..").text
    screenshot(browser, "billing-page")


def test_an_owner_saves_a_card_with_stripe_js_and_pays(live_server, browser, owner_a, org_a, stripe_on):
    """Stripe mode, against localstripe and its Stripe.js: the card is typed into the Stripe
    element, confirmed as a SetupIntent in the browser, then a top-up charges it."""
    log_in(browser, live_server, owner_a)
    browser.get(live_server.url + "/billing")
    assert "Add a card first" in browser.find_element(By.ID, "top-up").text
    for placeholder, value in (
        ("number", "4242424242424242"),
        ("exp_month", "12"),
        ("exp_year", "34"),
        ("cvc", "123"),
        ("postal_code", "10115"),
    ):
        browser.find_element(By.CSS_SELECTOR, f"#card-element input[placeholder={placeholder}]").send_keys(value)
    browser.find_element(By.CSS_SELECTOR, "#card-form button").click()
    wait_for(browser, ".messages", text="Saved visa •••• 4242")
    assert "Visa •••• 4242, expires 12/2034" in browser.find_element(By.ID, "card-on-file").text

    _submit(browser, "#top-up-form", "amount", "25")
    wait_for(browser, ".messages", text="Payment of $25.00 succeeded")
    assert browser.find_element(By.ID, "balance").text == "$25.00"  # no trial credit in Stripe mode
    assert "succeeded" in browser.find_element(By.ID, "payments").text
    screenshot(browser, "billing-stripe")


def _complete_bank_check(browser) -> None:
    """localstripe's Stripe.js stands in for the bank's 3-D Secure page with two buttons."""
    WebDriverWait(browser, 60).until(
        expected_conditions.element_to_be_clickable((By.XPATH, "//button[text()='Complete authentication']"))
    ).click()


def test_a_payment_the_bank_holds_is_confirmed_in_the_browser(live_server, browser, owner_a, org_a, stripe_on):
    """A card whose bank asks for 3-D Secure on every payment: saving it and each top-up open
    the bank's check in Stripe.js; the top-up is credited once the check succeeds."""
    log_in(browser, live_server, owner_a)
    browser.get(live_server.url + "/billing")
    for placeholder, value in (
        ("number", "4000002760003184"),
        ("exp_month", "12"),
        ("exp_year", "34"),
        ("cvc", "123"),
        ("postal_code", "10115"),
    ):
        browser.find_element(By.CSS_SELECTOR, f"#card-element input[placeholder={placeholder}]").send_keys(value)
    browser.find_element(By.CSS_SELECTOR, "#card-form button").click()
    _complete_bank_check(browser)
    wait_for(browser, ".messages", text="Saved visa •••• 3184")

    _submit(browser, "#top-up-form", "amount", "30")
    wait_for(browser, "h1", text="Confirm the payment with your bank")
    screenshot(browser, "billing-3ds-check")
    _complete_bank_check(browser)
    wait_for(browser, ".messages", text="Payment of $30.00 succeeded")
    assert browser.find_element(By.ID, "balance").text == "$30.00"
