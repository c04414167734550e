"""Upload, the dataset page and the wizard in headless Chromium, with a real Celery worker."""

import pytest
from selenium.webdriver.common.by import By

from tests.browser.helpers import log_in, wait_for
from tests.datasets import chat_jsonl, csv_table

pytestmark = pytest.mark.browser


def test_upload_shows_progress_then_the_analysis(live_server, browser, celery_worker, owner_a, tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_bytes(chat_jsonl(30))
    log_in(browser, live_server, owner_a)
    browser.get(live_server.url + "/datasets")
    browser.find_element(By.ID, "upload-input").send_keys(str(path))  # what a drop or the picker does

    wait_for(browser, "#file-status-badge", text="processed")  # the page polls, then reloads
    assert "30" in browser.find_element(By.ID, "dataset-stats").text
    histogram = browser.find_element(By.ID, "length-chart")
    assert histogram.size["height"] > 50  # Chart.js drew into the canvas
    assert (
        browser.execute_script("return Chart.getChart('length-chart').data.datasets[0].data.reduce((a, b) => a + b)")
        == 30
    )
    assert browser.execute_script("return Object.keys(Chart.getChart('label-chart').data.labels).length") == 3


def test_a_refused_upload_says_why_on_the_page(live_server, browser, owner_a, tmp_path):
    path = tmp_path / "notes.pdf"
    path.write_bytes(b"%PDF-1.4")
    log_in(browser, live_server, owner_a)
    browser.get(live_server.url + "/datasets")
    browser.find_element(By.ID, "upload-input").send_keys(str(path))
    status = wait_for(browser, ".upload-status.error")
    assert "Unsupported file type" in status.text


def test_wizard_from_csv_to_train_and_validation(live_server, browser, celery_worker, owner_a, tmp_path):
    path = tmp_path / "faq.csv"
    path.write_bytes(csv_table(40))
    log_in(browser, live_server, owner_a)
    browser.get(live_server.url + "/datasets/wizard")
    browser.find_element(By.ID, "upload-input").send_keys(str(path))

    mapping = wait_for(browser, "#mapping-form")  # step 2, with the columns guessed
    assert browser.find_element(By.CSS_SELECTOR, "#id_user option[selected]").text == "question"
    mapping.find_element(By.NAME, "system_prompt").send_keys("Classify the topic.")
    mapping.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    split = wait_for(browser, "#split-form")  # step 3 appears once the converted file is valid
    split.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    ready = wait_for(browser, "#wizard-ready", text="Use file-")
    assert "faq.train.jsonl" in ready.text and "faq.validation.jsonl" in ready.text
    assert ready.text.count("processed") == 2
