"""The playground in headless Chromium against Tunery under uvicorn (ASGI) and the engine:
streamed text appears piece by piece, two models side by side, copy-as-code."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.helpers import log_in, wait_for

pytestmark = pytest.mark.browser


class Server:
    def __init__(self, url):
        self.url = url


def test_streamed_answer_grows_piece_by_piece(gateway_url, browser, owner_a, succeeded_job):
    log_in(browser, Server(gateway_url), owner_a)
    browser.get(gateway_url + "/playground")
    Select(browser.find_element(By.ID, "model-a")).select_by_value(succeeded_job.fine_tuned_model)
    browser.find_element(By.ID, "compare-toggle").click()
    Select(browser.find_element(By.ID, "model-b")).select_by_value("tiny-llama")
    max_tokens = browser.find_element(By.ID, "max-tokens")
    max_tokens.clear()
    max_tokens.send_keys("120")
    # Record every change of the answer's text as it streams in.
    browser.execute_script("""
        window.lengths = [];
        new MutationObserver(() => {
          const answer = document.querySelector('#transcript-a .bubble.assistant');
          if (answer) window.lengths.push(answer.textContent.length);
        }).observe(document.getElementById('transcript-a'), {subtree: true, childList: true, characterData: true});
    """)
    browser.find_element(By.ID, "prompt").send_keys("Will it rain tomorrow?")
    browser.find_element(By.ID, "send").click()
    WebDriverWait(browser, 60).until(lambda b: b.find_element(By.ID, "send").is_enabled())

    lengths = [n for n in browser.execute_script("return window.lengths") if n]
    assert len(set(lengths)) > 3 and lengths == sorted(lengths)  # it grew, many times
    assert browser.find_element(By.CSS_SELECTOR, "#transcript-b .bubble.assistant").text  # the base answered too

    browser.find_element(By.CSS_SELECTOR, "#code summary").click()
    python = browser.find_element(By.ID, "code-python").text
    assert f'base_url="{gateway_url}/v1"' in python and f'model="{succeeded_job.fine_tuned_model}"' in python
    assert "/v1/chat/completions" in browser.find_element(By.ID, "code-curl").text


def test_usage_page_charts_the_playground_requests(gateway_url, browser, owner_a, succeeded_job, org_a):
    from tunery.inference.models import InferenceRequest

    InferenceRequest.objects.create(
        organization=org_a,
        model=succeeded_job.fine_tuned_model,
        endpoint="chat.completions",
        status_code=200,
        prompt_tokens=12,
        completion_tokens=30,
        latency_ms=250,
    )
    log_in(browser, Server(gateway_url), owner_a)
    browser.get(gateway_url + "/usage")
    wait_for(browser, "#usage-by-model", text=succeeded_job.fine_tuned_model)
    assert browser.execute_script("return Chart.getChart('usage-chart').data.datasets[0].data") == [1]
