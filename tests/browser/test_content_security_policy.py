"""The pages under the Content-Security-Policy in headless Chromium: nothing they need is
refused (Chromium logs each refusal to the console)."""

import pytest

from tests.browser.helpers import log_in, wait_for

pytestmark = pytest.mark.browser
PAGES = [
    "/",
    "/datasets",
    "/fine-tuning",
    "/fine-tuning/new",
    "/evaluations",
    "/playground",
    "/usage",
    "/billing",
    "/settings/organization",
    "/settings/api-keys",
    "/api/docs",
]


def refusals(browser) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser") if "Content Security Policy" in entry["message"]]


def test_no_page_has_anything_refused(live_server, browser, owner_a, succeeded_job):
    browser.get(live_server.url + "/accounts/login/")
    assert not refusals(browser)
    log_in(browser, live_server, owner_a)
    for path in [*PAGES, f"/fine-tuning/{succeeded_job.public_id}"]:
        browser.get(live_server.url + path)
        wait_for(browser, "body")
        assert not refusals(browser), path
    wait_for(browser, "#loss-chart")  # drawn by chart.js from our static files
    browser.get(live_server.url + "/api/docs")
    wait_for(browser, ".swagger-ui .info")  # Swagger UI ran its set-up script
    assert not refusals(browser)


def test_an_injected_inline_script_is_refused(live_server, browser, owner_a):
    log_in(browser, live_server, owner_a)
    browser.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.injected = true';"
        "document.body.appendChild(s);"
    )
    assert browser.execute_script("return window.injected") is None
    assert refusals(browser)
