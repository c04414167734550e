"""The dashboard and the navigation on a phone (390×844) and on a desktop, in headless Chromium."""

import pytest
from selenium.webdriver.common.by import By

from tests.browser.helpers import log_in, screenshot, wait_for
from tests.datasets import chat_jsonl
from tests.files.helpers import upload_and_inspect
from tests.orgs.test_dashboard import start_job
from tunery.jobs.models import FineTuningJob, JobStatus

pytestmark = pytest.mark.browser
NO_SIDEWAYS_SCROLL = "return document.documentElement.scrollWidth <= window.innerWidth"


def test_the_dashboard_and_its_navigation_work_on_a_phone_and_a_desktop(
    live_server, browser, owner_a, api_a, tiny_base
):
    dataset = upload_and_inspect(api_a, "support-tickets-routed-to-team-codes.jsonl", chat_jsonl(30))
    job = start_job(api_a, dataset)
    FineTuningJob.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, fine_tuned_model="ft:tiny-llama:org-a:tickets:abcd1234"
    )

    browser.set_window_size(390, 844)
    log_in(browser, live_server, owner_a)
    wait_for(browser, "#getting-started", text="3 of 4 done")
    assert browser.find_element(By.ID, "step-playground").get_attribute("class") == ""
    assert "ft:tiny-llama:org-a:tickets:abcd1234" in browser.find_element(By.ID, "recent-jobs").text
    assert browser.execute_script(NO_SIDEWAYS_SCROLL)
    screenshot(browser, "dashboard-phone")

    menu = browser.find_element(By.CSS_SELECTOR, ".nav")
    assert not menu.is_displayed()
    browser.find_element(By.CSS_SELECTOR, ".nav-toggle-label").click()
    assert menu.is_displayed()
    screenshot(browser, "dashboard-phone-menu")
    menu.find_element(By.LINK_TEXT, "Datasets").click()
    wait_for(browser, "h1", text="Datasets")
    assert (
        browser.find_element(By.CSS_SELECTOR, ".nav a[aria-current=page]").get_attribute("href").endswith("/datasets")
    )
    assert browser.execute_script(NO_SIDEWAYS_SCROLL)

    browser.find_element(By.CSS_SELECTOR, ".nav-toggle-label").click()
    browser.find_element(By.CSS_SELECTOR, ".nav").find_element(By.LINK_TEXT, "Dashboard").click()
    browser.find_element(By.CSS_SELECTOR, "#step-playground a").click()  # the next step, with the new model
    wait_for(browser, "h1", text="Playground")
    assert "model=ft%3Atiny-llama%3Aorg-a%3Atickets%3Aabcd1234" in browser.current_url

    browser.set_window_size(1280, 900)
    browser.get(live_server.url + "/")
    wait_for(browser, "#recent-datasets", text="support-tickets-routed-to-team-codes.jsonl")
    assert browser.find_element(By.CSS_SELECTOR, ".nav").is_displayed()
    assert not browser.find_element(By.CSS_SELECTOR, ".nav-toggle-label").is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, ".nav a[aria-current=page]").text == "Dashboard"
    screenshot(browser, "dashboard-desktop")
