"""The client has its answer before the call's usage row is written: metering is not part of the
gateway's time. Shown with the usage table locked against writes (as by a slow or busy database):
the answer, plain and streamed, arrives at once, and the row follows once the lock goes."""

import json
import time
from decimal import Decimal

import httpx
import pytest
from django.db import connection, connections

from tests.conftest import key_client, serve, wait_for
from tunery.billing import ledger
from tunery.billing.models import EntryKind
from tunery.inference.models import InferenceRequest

USAGE = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}


async def engine(scope, receive, send):
    """An engine stand-in that answers at once, plain or streamed."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    request = json.loads(body)
    if request.get("stream"):
        chunk = {
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": "ok"}}],
            "usage": USAGE,
        }
        payload, kind = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode(), b"text/event-stream"
    else:
        reply = {"object": "chat.completion", "choices": [{"index": 0, "message": {"content": "ok"}}], "usage": USAGE}
        payload, kind = json.dumps(reply).encode(), b"application/json"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", kind)]})
    await send({"type": "http.response.body", "body": payload})


@pytest.fixture
def gateway(transactional_db, settings, org_a, embedded_base):
    from tunery.asgi import application

    ledger.credit(org_a, EntryKind.ADJUSTMENT, Decimal("10"), "credit for the test")
    with serve(engine) as engine_url, serve(application) as url:
        settings.TUNERY_ENGINE_URL = engine_url
        yield url, key_client(org_a).secret, embedded_base.name


@pytest.fixture
def usage_table_locked():
    """Another session holds a lock that lets the table be read but not written."""
    if connection.vendor != "postgresql":
        pytest.skip("locks a table the PostgreSQL way: run with DATABASE_URL (bin/services)")
    other = connections.create_connection("default")
    other.set_autocommit(False)
    with other.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {InferenceRequest._meta.db_table} IN EXCLUSIVE MODE")
    try:
        yield
    finally:
        other.rollback()
        other.close()


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_the_answer_does_not_wait_for_the_usage_row(gateway, usage_table_locked, request, stream):
    url, secret, model = gateway
    body = {"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2, "stream": stream}
    headers = {"Authorization": f"Bearer {secret}"}
    started = time.monotonic()
    with (
        httpx.Client(timeout=5) as client,
        client.stream("POST", f"{url}/v1/chat/completions", json=body, headers=headers) as reply,
    ):
        assert reply.status_code == 200
        answer = b""
        for chunk in reply.iter_bytes():
            answer += chunk
            if not stream or b"data: [DONE]" in answer:
                break
        answered = time.monotonic() - started
    assert answered < 3, f"the answer waited {answered:.1f} s for the usage row"
    assert b'"ok"' in answer
    assert not InferenceRequest.objects.exists()  # the write still waits for the lock
    request.getfixturevalue("usage_table_locked")  # (held until the test ends)


def test_the_row_is_written_once_the_answer_went_out(gateway):
    url, secret, model = gateway
    body = {"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}
    reply = httpx.post(f"{url}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {secret}"})
    assert reply.status_code == 200
    row = wait_for(lambda: InferenceRequest.objects.first(), timeout=10)
    assert (row.prompt_tokens, row.completion_tokens, row.status_code, row.model) == (5, 2, 200, model)
    assert InferenceRequest.objects.count() == 1
