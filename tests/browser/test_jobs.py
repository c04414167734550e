"""Start a job from the web and watch it train: progress bar, live loss chart, then results."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.helpers import log_in, wait_for
from tests.datasets import chat_jsonl
from tests.files.helpers import upload_and_inspect

pytestmark = pytest.mark.browser


def test_a_job_started_on_the_web_trains_live_and_shows_its_evaluation(
    live_server, browser, celery_worker, owner_a, api_a, tiny_base
):
    dataset = upload_and_inspect(api_a, "train.jsonl", chat_jsonl(30))
    log_in(browser, live_server, owner_a)
    browser.get(live_server.url + "/fine-tuning/new")
    Select(browser.find_element(By.NAME, "model")).select_by_value("tiny-llama")
    Select(browser.find_element(By.NAME, "training_file")).select_by_value(dataset.public_id)
    browser.find_element(By.NAME, "suffix").send_keys("live")
    browser.find_element(By.NAME, "n_epochs").send_keys("3")
    browser.find_element(By.CSS_SELECTOR, "#job-form button[type=submit]").click()

    wait_for(browser, "#job-status")
    # The chart fills from the metrics endpoint while the job runs, then the page reloads with results.
    wait_for(browser, "#evaluation-table", timeout=180)
    assert browser.find_element(By.ID, "job-status").text == "succeeded"
    curves = "const c = Chart.getChart('loss-chart'); return c ? c.data.datasets.map(d => d.data.length) : [0, 0]"
    WebDriverWait(browser, 20).until(lambda b: all(n > 0 for n in b.execute_script(curves)))  # training and validation
    assert "100%" in browser.find_element(By.CSS_SELECTOR, "#job-progress span").get_attribute("style")
    assert "ft:tiny-llama:org-a:live:" in browser.find_element(By.ID, "fine-tuned-model").text
