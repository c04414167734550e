"""Evaluate three models from the web: tick them, watch the progress bar while a real Celery
worker runs the evaluation, then read the results side by side with the chart."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.helpers import log_in, screenshot, wait_for
from tests.datasets import chat_jsonl
from tests.files.helpers import upload_and_inspect

pytestmark = pytest.mark.browser


def test_an_evaluation_started_on_the_web_runs_on_the_queue_and_shows_its_results(
    live_server, browser, celery_worker, owner_a, api_a, succeeded_job
):
    test_file = upload_and_inspect(api_a, "test.jsonl", chat_jsonl(12))
    checkpoint = succeeded_job.checkpoints.order_by("step").first()
    log_in(browser, live_server, owner_a)
    browser.get(live_server.url + f"/fine-tuning/{succeeded_job.public_id}")
    browser.find_element(By.ID, "evaluate-link").click()  # the fine-tuned model comes ticked

    Select(browser.find_element(By.NAME, "test_file")).select_by_value(test_file.public_id)
    for name in ("tiny-llama", checkpoint.model_name):
        browser.find_element(By.CSS_SELECTOR, f'input[name=models][value="{name}"]').click()
    browser.find_element(By.CSS_SELECTOR, "#new-evaluation button[type=submit]").click()

    wait_for(browser, "#evaluation-progress")
    # The page polls while the worker runs, then reloads with the results.
    wait_for(browser, "#evaluation-results", timeout=180)
    assert browser.find_element(By.ID, "evaluation-status").text == "succeeded"
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#evaluation-results thead th")][1:]
    # In the form's order: the base, then each fine-tuned model with its checkpoints.
    assert [h.splitlines()[0] for h in headers] == ["tiny-llama", succeeded_job.fine_tuned_model, checkpoint.model_name]
    assert "$" in browser.find_element(By.ID, "run-cost").text
    bars = "const c = Chart.getChart('evaluation-chart'); return c ? c.data.datasets[0].data.length : 0"
    WebDriverWait(browser, 20).until(lambda b: b.execute_script(bars) == 3)
    browser.set_window_size(1280, 2400)
    screenshot(browser, "evaluation-results")
    summary = browser.find_element(By.CSS_SELECTOR, "#wrong-1 summary")
    summary.click()
    assert "wrong of 12" in summary.text
