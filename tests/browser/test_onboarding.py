"""Sign up → verify → create organization → invite → create API key, in headless Chromium."""

import re

import httpx
import pytest
from django.core import mail
from selenium.webdriver.common.by import By

from tests.browser.helpers import wait_for

pytestmark = pytest.mark.browser


def _fill(browser, fields: dict[str, str]) -> None:
    for name, value in fields.items():
        element = browser.find_element(By.NAME, name)
        element.clear()
        element.send_keys(value)


def test_a_new_team_gets_from_sign_up_to_a_working_api_key(live_server, browser):
    browser.get(live_server.url + "/accounts/signup/")
    _fill(browser, {"email": "founder@team.test", "password1": "weak", "password2": "weak"})
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for(browser, "main", text="too short")  # inline error, form kept

    _fill(browser, {"password1": "a much better passphrase", "password2": "a much better passphrase"})
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for(browser, "main", text="Verify")

    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[-1].body).group(0)
    browser.get(link)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for(browser, "h1", text="organization")
    assert browser.find_element(By.TAG_NAME, "h1").text == "founder's organization"  # signed in, personal org

    browser.find_element(By.LINK_TEXT, "New organization").click()
    _fill(browser, {"name": "Rocket Team"})
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for(browser, ".messages", text="Created Rocket Team")

    invite = browser.find_element(By.ID, "invite-form")
    invite.find_element(By.NAME, "email").send_keys("colleague@team.test")
    invite.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(browser, ".messages", text="Invitation sent to colleague@team.test")
    assert "/invitations/" in mail.outbox[-1].body

    browser.find_element(By.LINK_TEXT, "API keys").click()
    _fill(browser, {"name": "laptop"})
    browser.find_element(By.CSS_SELECTOR, "#create-key-form button[type=submit]").click()
    secret = wait_for(browser, "#new-key-value").text
    assert secret.startswith("tun_")

    response = httpx.get(live_server.url + "/v1/organization", headers={"Authorization": f"Bearer {secret}"})
    assert response.json()["name"] == "Rocket Team"


def test_layout_is_usable_on_a_phone(live_server, browser, owner_a):
    browser.set_window_size(390, 844)
    browser.get(live_server.url + "/accounts/login/")
    _fill(browser, {"login": owner_a.email, "password": "a long test passphrase"})
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for(browser, "h1", text="Org A")
    menu = browser.find_element(By.CSS_SELECTOR, ".nav")
    assert not menu.is_displayed()  # collapsed behind the menu button
    browser.find_element(By.CSS_SELECTOR, ".nav-toggle-label").click()
    assert menu.is_displayed()
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
