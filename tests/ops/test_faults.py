"""Faults (docs/operations.md, "Faults"): a backing service restarts or a process dies, and the
client gets a clear error, no charge is lost or doubled, and Tunery recovers without a restart.

The services these tests break are their own: a private redis-server on a free port, and an
engine stand-in, both subprocesses stopped by PID. The machine's shared PostgreSQL and Redis
are never touched."""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import _free_port, key_client, wait_for
from tunery.billing.models import EntryKind, LedgerEntry
from tunery.inference.charges import charge_pending_usage
from tunery.inference.models import InferenceRequest

HERE = Path(__file__).resolve().parent
CHAT = {"model": "tiny-llama", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}


def _start(args: list[str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: _listening(port), timeout=30, every=0.05)
    return process


def _stop(process: subprocess.Popen, signal: str = "terminate") -> None:
    getattr(process, signal)()  # only the process this test started, by its handle
    process.wait(timeout=30)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def _redis(port: int) -> subprocess.Popen:
    return _start(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], port
    )


@pytest.fixture
def private_redis(settings):
    """A redis-server of this test's own, as Tunery's cache."""
    port = _free_port()
    process = _redis(port)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            # As in production: one connection pool for the process, which must recover on its own.
            "OPTIONS": {"pool_class": "tunery.redis_pool.SharedConnectionPool"},
        }
    }
    state = {"process": process, "port": port}
    yield state
    if state["process"].poll() is None:
        _stop(state["process"])


def test_redis_restarted_answers_503_then_recovers_without_a_restart(
    private_redis, tiny_base, engine_url, org_a, settings
):
    settings.TUNERY_ENGINE_URL = engine_url
    api = key_client(org_a)
    assert api.post("/v1/chat/completions", CHAT, format="json").status_code == 200

    _stop(private_redis["process"])  # Redis goes away (rate limits and the credit check live there)
    down = api.post("/v1/chat/completions", CHAT, format="json")
    assert down.status_code == 503 and down.json()["error"]["code"] == "service_unavailable"
    assert "cache" in down.json()["error"]["message"] and int(down["Retry-After"]) > 0
    assert InferenceRequest.objects.filter(organization=org_a).count() == 1  # nothing was forwarded or metered

    private_redis["process"] = _redis(private_redis["port"])  # back, empty, on the same address
    restarted = time.monotonic()
    wait_for(lambda: api.post("/v1/chat/completions", CHAT, format="json").status_code == 200, timeout=30, every=0.1)
    print(f"recovered {time.monotonic() - restarted:.2f} s after Redis was back")
    assert InferenceRequest.objects.filter(organization=org_a).count() == 2


def test_engine_killed_mid_stream_ends_with_an_error_event_and_is_charged_once(gateway_url, tiny_base, org_a, settings):
    port = _free_port()
    engine_args = [sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "slow_stream_engine:app"]
    engine = _start([*engine_args, "--port", str(port), "--log-level", "warning"], port)
    settings.TUNERY_ENGINE_URL = f"http://127.0.0.1:{port}"
    secret = key_client(org_a).secret
    headers = {"Authorization": f"Bearer {secret}"}
    events = []
    with httpx.stream(
        "POST", f"{gateway_url}/v1/chat/completions", json={**CHAT, "stream": True}, headers=headers, timeout=30
    ) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            events.append(line[6:])
            if len(events) == 5:
                _stop(engine, "kill")  # SIGKILL mid-answer
    tokens = [json.loads(e) for e in events[:-1]]
    error = tokens[-1]
    assert events[-1] == "[DONE]", "the stream ends properly, not with a cut connection"
    assert (
        error["error"]["code"] == "engine_unavailable"
        and "inference engine is unavailable" in error["error"]["message"]
    )
    delivered = sum(1 for t in tokens if t.get("choices"))
    assert delivered >= 5

    row = wait_for(lambda: InferenceRequest.objects.filter(organization=org_a).first(), timeout=10)
    assert row.status_code == 503 and row.prompt_tokens == 7 and row.completion_tokens >= delivered
    assert InferenceRequest.objects.filter(organization=org_a).count() == 1
    charge_pending_usage()
    charge_pending_usage()  # a second run finds nothing new: charged once
    charges = LedgerEntry.objects.filter(organization=org_a, kind=EntryKind.USAGE_CHARGE)
    assert charges.count() == 1 and charges.get().tokens == row.prompt_tokens + row.completion_tokens

    engine = _start([*engine_args, "--port", str(port), "--log-level", "warning"], port)  # the engine is back
    try:
        restarted = time.monotonic()
        with httpx.stream(
            "POST", f"{gateway_url}/v1/chat/completions", json={**CHAT, "stream": True}, headers=headers, timeout=30
        ) as response:
            first = next(line for line in response.iter_lines() if line.startswith("data: "))
        assert json.loads(first[6:])["choices"], "the gateway serves again with no restart of its own"
        print(f"first token {time.monotonic() - restarted:.2f} s after the engine was back")
    finally:
        _stop(engine, "kill")
