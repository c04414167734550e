"""The billing page in headless Chromium: balance, spend chart, adding credit in ledger-only
mode, the spend limit, and the ledger growing."""
from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By

from tests.browser.helpers import log_in, screenshot, wait_for
from django.utils import timezone

from tunery.billing.models import EntryKind, LedgerEntry, UsagePeriod

pytestmark = pytest.mark.browser


def test_an_owner_adds_credit_and_sets_a_limit(live_server, browser, owner_a, org_a):
    period = UsagePeriod.objects.create(organization=org_a, model="tiny-llama", day=timezone.now().date())
    LedgerEntry.objects.create(organization=org_a, kind=EntryKind.USAGE_CHARGE, amount=Decimal("-2.50"), usage_period=period, description="Inference tiny-llama")
    log_in(browser, live_server, owner_a)
    browser.get(live_server.url + "/billing")
    assert wait_for(browser, "#balance").text == "$7.50"
    # The chart drew one stacked series for the day's inference.
    drawn = browser.execute_script("return Chart.getChart('spend-chart').data.datasets.map(d => [d.label, d.data.reduce((a, b) => a + b, 0)])")
    assert drawn == [["Inference: tiny-llama", 2.5]]

    amount = browser.find_element(By.CSS_SELECTOR, "#top-up-form input[name=amount]")
    amount.clear()
    amount.send_keys("20")
    browser.find_element(By.CSS_SELECTOR, "#top-up-form button").click()
    wait_for(browser, ".messages", text="Added $20.00 of credit")
    assert wait_for(browser, "#balance").text == "$27.50"
    assert "Top-up (ledger-only mode" in browser.find_element(By.ID, "ledger").text

    limit = browser.find_element(By.ID, "monthly_spend_limit")
    limit.clear()
    limit.send_keys("3")
    browser.find_element(By.CSS_SELECTOR, "#settings-form button").click()
    wait_for(browser, ".messages", text="Billing settings saved")
    assert "of $3.00" in browser.find_element(By.ID, "month-spend").find_element(By.XPATH, "..").text
    screenshot(browser, "billing-page")
