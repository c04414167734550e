"""Acceptance: the official openai client calls a fine-tuned model through the gateway."""

import socket
import time

import httpx
import openai
import pytest

from tests.conftest import key_client, wait_for
from tunery.inference.models import InferenceRequest


@pytest.fixture
def client_a(gateway_url, org_a):
    return openai.OpenAI(base_url=gateway_url + "/v1", api_key=key_client(org_a).secret, max_retries=0)


@pytest.fixture
def tuned(succeeded_job):
    return succeeded_job.fine_tuned_model


def test_chat_completion_on_a_fine_tuned_model(client_a, tuned, org_a):
    reply = client_a.chat.completions.create(
        model=tuned, messages=[{"role": "user", "content": "Will it rain?"}], max_tokens=8, temperature=0
    )
    assert reply.model == tuned and reply.object == "chat.completion"
    assert reply.choices[0].message.role == "assistant" and reply.usage.completion_tokens >= 1
    # Metered once the answer went out (tests/inference/test_metering_off_path.py): it follows the reply.
    row = wait_for(lambda: InferenceRequest.objects.filter(organization=org_a).first(), timeout=10)
    assert (row.model, row.prompt_tokens, row.completion_tokens, row.status_code) == (
        tuned,
        reply.usage.prompt_tokens,
        reply.usage.completion_tokens,
        200,
    )


def test_streaming_arrives_piece_by_piece_with_usage(client_a, tuned, org_a):
    started = time.monotonic()
    arrivals, texts, usage = [], [], None
    stream = client_a.chat.completions.create(
        model=tuned,
        messages=[{"role": "user", "content": "Tell me"}],
        max_tokens=24,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        assert chunk.model == tuned
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic() - started)
            texts.append(chunk.choices[0].delta.content)
        if chunk.usage:
            usage = chunk.usage
    assert len(texts) > 3 and arrivals[0] < arrivals[-1]  # several chunks, not one buffered blob
    assert usage and usage.completion_tokens >= len(texts) - 1
    assert wait_for(lambda: InferenceRequest.objects.filter(organization=org_a).first(), timeout=10).stream


def test_a_stream_the_client_abandons_is_metered_up_to_there(client_a, tuned, org_a):
    stream = client_a.chat.completions.create(
        model=tuned,
        messages=[{"role": "user", "content": "Tell me a long story"}],
        max_tokens=120,
        temperature=0,
        stream=True,
    )
    received = 0
    for chunk in stream:
        assert chunk.usage is None  # the usage the gateway meters by is not passed on
        received += bool(chunk.choices and chunk.choices[0].delta.content)
        if received == 5:
            break
    stream.close()  # the client goes away mid-answer
    row = wait_for(lambda: InferenceRequest.objects.filter(organization=org_a).first(), timeout=30)
    assert row.prompt_tokens > 0 and 5 <= row.completion_tokens < 120


def test_stream_without_include_usage_has_no_usage_chunk(client_a, tuned):
    chunks = list(
        client_a.chat.completions.create(
            model=tuned, messages=[{"role": "user", "content": "Hi"}], max_tokens=4, stream=True
        )
    )
    assert all(c.usage is None for c in chunks)


def test_text_completion_models_and_base_model(client_a, tuned):
    reply = client_a.completions.create(model=tuned, prompt="The weather is", max_tokens=5, temperature=0)
    assert reply.object == "text_completion" and reply.model == tuned
    base = client_a.chat.completions.create(
        model="tiny-llama", messages=[{"role": "user", "content": "Hi"}], max_tokens=3
    )
    assert base.model == "tiny-llama"
    assert tuned in [m.id for m in client_a.models.list()]
    assert client_a.models.retrieve(tuned).id == tuned


def test_errors_raise_the_matching_openai_exceptions(client_a, tuned, gateway_url, settings):
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=gateway_url + "/v1", api_key="tun_revoked", max_retries=0).chat.completions.create(
            model=tuned, messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(openai.NotFoundError) as missing:
        client_a.chat.completions.create(
            model="ft:tiny-llama:org-a:x:nothere1", messages=[{"role": "user", "content": "x"}]
        )
    assert missing.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError) as bad:
        client_a.chat.completions.create(model=tuned, messages=[{"role": "user", "content": "x"}], temperature=5)
    assert bad.value.body["param"] == "temperature"
    settings.TUNERY_RATE_LIMIT_PER_KEY = 1
    client_a.chat.completions.create(model=tuned, messages=[{"role": "user", "content": "x"}], max_tokens=1)
    with pytest.raises(openai.RateLimitError) as limited:
        client_a.chat.completions.create(model=tuned, messages=[{"role": "user", "content": "x"}], max_tokens=1)
    assert int(limited.value.response.headers["retry-after"]) > 0


def test_another_organization_can_neither_call_nor_discover_the_model(gateway_url, tuned, org_b):
    intruder = openai.OpenAI(base_url=gateway_url + "/v1", api_key=key_client(org_b).secret, max_retries=0)
    with pytest.raises(openai.NotFoundError) as theirs:
        intruder.chat.completions.create(model=tuned, messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.NotFoundError) as nothing:
        intruder.chat.completions.create(model=tuned[:-1] + "Z", messages=[{"role": "user", "content": "x"}])
    assert theirs.value.body["message"].replace(tuned, "M") == nothing.value.body["message"].replace(
        tuned[:-1] + "Z", "M"
    )
    with pytest.raises(openai.NotFoundError):
        intruder.models.retrieve(tuned)
    assert tuned not in [m.id for m in intruder.models.list()]


def _engine_forgets(engine_url: str, tuned_job) -> None:
    """As after an engine restart: the engine no longer has the adapter the gateway registered."""
    httpx.post(f"{engine_url}/v1/unload_lora_adapter", json={"lora_name": tuned_job.public_id}, timeout=10)
    assert tuned_job.public_id not in [m["id"] for m in httpx.get(f"{engine_url}/v1/models").json()["data"]]


def test_after_an_engine_restart_the_adapter_is_registered_again(client_a, succeeded_job, engine_url):
    tuned = succeeded_job.fine_tuned_model
    client_a.chat.completions.create(model=tuned, messages=[{"role": "user", "content": "Hi"}], max_tokens=2)
    _engine_forgets(engine_url, succeeded_job)
    reply = client_a.chat.completions.create(model=tuned, messages=[{"role": "user", "content": "Hi"}], max_tokens=2)
    assert reply.model == tuned
    _engine_forgets(engine_url, succeeded_job)
    chunks = list(
        client_a.chat.completions.create(
            model=tuned, messages=[{"role": "user", "content": "Hi"}], max_tokens=2, stream=True
        )
    )
    assert chunks and all(c.model == tuned for c in chunks)


def test_an_engine_that_is_down_is_a_503_in_both_modes(client_a, tuned, settings):
    settings.TUNERY_ENGINE_URL = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(openai.InternalServerError) as plain:
        client_a.chat.completions.create(model="tiny-llama", messages=[{"role": "user", "content": "Hi"}], max_tokens=2)
    assert plain.value.status_code == 503 and plain.value.body["code"] == "engine_unavailable"
    with pytest.raises(openai.APIError) as streamed:
        list(
            client_a.chat.completions.create(
                model="tiny-llama", messages=[{"role": "user", "content": "Hi"}], max_tokens=2, stream=True
            )
        )
    assert "inference engine is unavailable" in streamed.value.message


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed
