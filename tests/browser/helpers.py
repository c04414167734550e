from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import PASSWORD


def log_in(browser, live_server, user) -> None:
    browser.get(live_server.url + "/accounts/login/")
    browser.find_element(By.NAME, "login").send_keys(user.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda b: "/accounts/login" not in b.current_url)


def wait_for(browser, css: str, timeout: float = 60, text: str | None = None):
    wait = WebDriverWait(browser, timeout)
    if text is not None:
        wait.until(expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    return wait.until(expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, css)))


ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"


def screenshot(browser, name: str) -> Path:
    """Save what the browser shows under var/test-artifacts/ (kept after the run, not in git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


def record_answer_lengths(browser, transcript_id: str) -> None:
    """Start recording every change of the length of the playground answer in `transcript_id`,
    as it streams in; `recorded_answer_lengths` returns them."""
    browser.execute_script(
        """
        const transcript = document.getElementById(arguments[0]);
        window.answerLengths = [];
        new MutationObserver(() => {
          const answer = transcript.querySelector('.bubble.assistant');
          if (answer) window.answerLengths.push(answer.textContent.length);
        }).observe(transcript, {subtree: true, childList: true, characterData: true});
    """,
        transcript_id,
    )


def recorded_answer_lengths(browser) -> list[int]:
    return [n for n in browser.execute_script("return window.answerLengths") if n]
