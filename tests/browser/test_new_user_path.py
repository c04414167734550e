"""A new user's whole path in headless Chromium, in one test: sign up, verify the e-mail, turn a
CSV into a train/validation pair with the wizard, start a job on the web form (live estimate),
watch it train, read its evaluation, chat with it in the playground, create an API key and add
credit. Tunery runs under uvicorn (ASGI) in front of the engine, with a real Celery worker.
A screenshot of every step lands in var/test-artifacts/new-user-path/."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.helpers import ARTIFACTS, record_answer_lengths, recorded_answer_lengths, screenshot, wait_for
from tests.datasets import chat_rows
from tunery.billing.ledger import job_charge
from tunery.billing.models import Price
from tunery.billing.money import display
from tunery.jobs.models import FineTuningJob

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSPHRASE = "a new user's passphrase"


def text_label_csv(n: int) -> bytes:
    """A topic classification table with the column names people give it."""
    lines = ["text,label"] + [
        f'"{row["messages"][1]["content"]}",{row["messages"][2]["content"]}' for row in chat_rows(n)
    ]
    return ("\n".join(lines) + "\n").encode()


def money(text: str) -> Decimal:
    """The first amount in `text` ($1,234.56, or $0.0042 for less than a cent)."""
    return Decimal(re.search(r"\$([\d,]+(?:\.\d+)?)", text).group(1).replace(",", ""))


def absent(browser, element_id: str) -> bool:
    """No such element now (without the implicit wait's five seconds)."""
    browser.implicitly_wait(0)
    try:
        return not browser.find_elements(By.ID, element_id)
    finally:
        browser.implicitly_wait(5)


class Steps:
    """Numbered screenshots, in the order the user saw the pages."""

    def __init__(self, browser):
        self.browser = browser
        self.number = 0
        (ARTIFACTS / "new-user-path").mkdir(parents=True, exist_ok=True)

    def shot(self, name: str) -> None:
        self.number += 1
        screenshot(self.browser, f"new-user-path/{self.number:02d}-{name}")


def test_a_new_user_gets_from_sign_up_to_a_chat_with_their_fine_tuned_model(
    gateway_url, celery_worker, tiny_base, browser, tmp_path
):
    steps = Steps(browser)
    # A price at which the tiny job costs about a dollar, so that its charge shows in the balance.
    Price.objects.create(
        base_model=tiny_base,
        training_per_million=Decimal("400"),
        input_per_million=Decimal("1"),
        output_per_million=Decimal("2"),
    )

    def go(link_text: str) -> None:
        browser.find_element(By.CSS_SELECTOR, "nav.nav").find_element(By.LINK_TEXT, link_text).click()

    def submit(form_css: str) -> None:
        browser.find_element(By.CSS_SELECTOR, f"{form_css} button[type=submit]").click()

    # Sign up, then follow the link in the e-mail: signed in, on the personal organization.
    browser.get(gateway_url + "/accounts/signup/")
    for name, value in {"email": "newcomer@example.test", "password1": PASSPHRASE, "password2": PASSPHRASE}.items():
        browser.find_element(By.NAME, name).send_keys(value)
    steps.shot("sign-up")
    submit("main form")
    wait_for(browser, "main", text="Verify")
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[-1].body).group(0)
    browser.get(link)
    submit("main form")
    wait_for(browser, "h1", text="newcomer's organization")
    steps.shot("verified")

    # The wizard: upload the CSV, map its columns (guessed from their names), split.
    csv = tmp_path / "topics.csv"
    csv.write_bytes(text_label_csv(48))
    go("Datasets")
    browser.find_element(By.PARTIAL_LINK_TEXT, "From a spreadsheet").click()
    browser.find_element(By.ID, "upload-input").send_keys(str(csv))
    mapping = wait_for(browser, "#mapping-form")
    assert Select(browser.find_element(By.ID, "id_user")).first_selected_option.text == "text"
    assert Select(browser.find_element(By.ID, "id_assistant")).first_selected_option.text == "label"
    mapping.find_element(By.NAME, "system_prompt").send_keys("Classify the topic.")
    steps.shot("map-columns")
    submit("#mapping-form")
    split = wait_for(browser, "#split-form")  # once the converted file is valid
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", split)
    steps.shot("split")
    submit("#split-form")
    ready = wait_for(browser, "#wizard-ready", text="Use file-")  # both halves processed
    training_file, validation_file = (code.text for code in ready.find_elements(By.CSS_SELECTOR, "p code"))
    steps.shot("dataset-ready")

    # The job form: the estimate follows the choices, live.
    go("Fine-tuning")
    browser.find_element(By.LINK_TEXT, "New fine-tuning job").click()
    browser.find_element(By.NAME, "suffix").send_keys("topics")
    browser.find_element(By.NAME, "n_epochs").send_keys("2")
    Select(browser.find_element(By.NAME, "model")).select_by_value("tiny-llama")
    Select(browser.find_element(By.NAME, "training_file")).select_by_value(training_file)
    Select(browser.find_element(By.NAME, "validation_file")).select_by_value(validation_file)
    estimate = wait_for(browser, "#estimate #estimate-figures", text="× 2 epochs")
    assert money(estimate.text) > 0 and "about" in estimate.text
    assert absent(browser, "estimate-refusal")  # the trial credit covers it
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", estimate)
    steps.shot("new-job-estimate")
    submit("#job-form")

    # The job page follows the training live, then reloads with the results.
    status = wait_for(browser, "#job-status")
    assert status.text in ("validating_files", "queued", "running", "succeeded")
    steps.shot("job-started")
    wait_for(browser, "#evaluation-table", timeout=150)
    assert browser.find_element(By.ID, "job-status").text == "succeeded"
    assert "100%" in browser.find_element(By.CSS_SELECTOR, "#job-progress span").get_attribute("style")
    fine_tuned_model = browser.find_element(By.ID, "fine-tuned-model").text
    assert fine_tuned_model.startswith("ft:tiny-llama:") and ":topics:" in fine_tuned_model
    charged = job_charge(FineTuningJob.objects.get(fine_tuned_model=fine_tuned_model))
    assert charged > 0
    assert f"charged {display(charged)}" in browser.find_element(By.ID, "job-cost").text
    steps.shot("job-succeeded")

    # The evaluation: base against fine-tuned on the validation half.
    evaluation = browser.find_element(By.ID, "evaluation")
    browser.execute_script("arguments[0].scrollIntoView()", evaluation)
    assert "Base vs fine-tuned" in evaluation.text
    header = [th.text for th in evaluation.find_elements(By.CSS_SELECTOR, "#evaluation-table thead th")]
    assert header[1:] == ["Base", "Fine-tuned"]
    assert "Loss" in evaluation.find_element(By.CSS_SELECTOR, "#evaluation-table tbody").text
    steps.shot("evaluation")

    # The playground: the fine-tuned model's answer streams in, piece by piece.
    go("Playground")
    Select(browser.find_element(By.ID, "model-a")).select_by_value(fine_tuned_model)
    max_tokens = browser.find_element(By.ID, "max-tokens")
    max_tokens.clear()
    max_tokens.send_keys("60")  # the tiny model's context is 256 tokens
    record_answer_lengths(browser, "transcript-a")
    browser.find_element(By.ID, "prompt").send_keys("Will it rain tomorrow?")
    browser.find_element(By.ID, "send").click()
    WebDriverWait(browser, 60).until(lambda b: b.find_element(By.ID, "send").is_enabled())
    answer = browser.find_element(By.CSS_SELECTOR, "#transcript-a .bubble.assistant")
    assert answer.text and "error" not in answer.get_attribute("class"), answer.text
    assert len(set(recorded_answer_lengths(browser))) > 1  # it grew as it streamed
    steps.shot("playground")

    # An API key, shown once.
    go("API keys")
    browser.find_element(By.NAME, "name").send_keys("laptop")
    submit("#create-key-form")
    assert wait_for(browser, "#new-key-value").text.startswith("tun_")
    steps.shot("api-key")

    # Billing in ledger-only mode: the trial credit less the job's charge, then a top-up.
    go("Billing")
    assert wait_for(browser, "#ledger-only-note")
    assert browser.find_element(By.ID, "balance").text == display(Decimal("10.00") - charged)
    ledger = browser.find_element(By.ID, "ledger").text
    assert "Trial credit" in ledger and "Fine-tuning ftjob-" in ledger
    amount = browser.find_element(By.CSS_SELECTOR, "#top-up-form input[name=amount]")
    amount.clear()
    amount.send_keys("20")
    submit("#top-up-form")
    wait_for(browser, ".messages", text="Added $20.00 of credit")
    assert wait_for(browser, "#balance").text == display(Decimal("30.00") - charged)
    steps.shot("billing-topped-up")

    # Every step of the dashboard's checklist is done, so it gives way.
    go("Dashboard")
    wait_for(browser, "h1", text="newcomer's organization")
    assert absent(browser, "getting-started")
    steps.shot("dashboard")
