"""Billing fixtures: localstripe (a stateful Stripe emulator from PyPI) started for the session,
the real `stripe` SDK pointed at it, and helpers to sign webhook payloads the way Stripe does."""

import hashlib
import hmac
import json
import shutil
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.conftest import _free_port

WEBHOOK_SECRET = "whsec_tunery_tests"


@pytest.fixture(scope="session")
def localstripe_url():
    command = shutil.which("localstripe") or str(Path(sys.executable).with_name("localstripe"))
    port = _free_port()
    process = subprocess.Popen(
        [command, "--port", str(port), "--from-scratch"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/js.stripe.com/v3/", timeout=1)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("localstripe did not start")
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_on(settings, localstripe_url):
    """Stripe mode: keys set, the SDK talking to localstripe."""
    settings.STRIPE_SECRET_KEY = "sk_test_tunery"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_tunery"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = localstripe_url
    settings.STRIPE_JS_URL = localstripe_url + "/js.stripe.com/v3/"
    settings.TUNERY_TRIAL_CREDIT = "0"  # the default when Stripe keys are set
    return localstripe_url


def card(number: str = "4242424242424242") -> str:
    """A PaymentMethod id, made the way Stripe.js makes one in the browser."""
    from tunery.billing.payments import client

    method = client().v1.payment_methods.create(
        {"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
    )
    return method.id


def signed(payload: dict, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> tuple[bytes, str]:
    """The body and Stripe-Signature header Stripe sends: HMAC-SHA256 of "<t>.<body>"."""
    body = json.dumps(payload).encode()
    timestamp = timestamp or int(time.time())
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={signature}"


def event(event_id: str, type: str, obj: dict) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": type,
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
    }


def set_balance(organization, amount: str) -> None:
    """Make the balance exactly `amount` with an adjustment (the trial credit stays)."""
    from tunery.billing import ledger
    from tunery.billing.models import EntryKind, LedgerEntry

    delta = Decimal(amount) - ledger.balance(organization)
    if delta:
        LedgerEntry.objects.create(
            organization=organization, kind=EntryKind.ADJUSTMENT, amount=delta, description="test balance"
        )
