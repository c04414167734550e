"""vLLM's runtime LoRA endpoints, and the adapter LRU with its memory budget."""

from __future__ import annotations

import httpx
import openai
import pytest
from openai import OpenAI

from tests.engine.conftest import serving

QUESTION = [{"role": "user", "content": "Is fire cold?"}]


def greedy(client: OpenAI, model: str) -> str:
    answer = client.chat.completions.create(model=model, messages=QUESTION, max_tokens=6, temperature=0)
    return answer.choices[0].message.content


@pytest.fixture(scope="module")
def fresh(make_engine):
    """An engine of its own, since these tests change which adapters it serves."""
    engine = make_engine()
    with serving(engine) as url, httpx.Client(base_url=url, timeout=120) as http:
        yield engine, http, OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=120)


def test_load_serve_and_unload_an_adapter(fresh, chatml_adapter):
    _, http, client = fresh
    loaded = http.post(
        "/load_lora_adapter", json={"lora_name": "ft:tiny:acme:demo:1", "lora_path": str(chatml_adapter)}
    )
    assert (
        loaded.status_code == 200 and loaded.text == "Success: LoRA adapter 'ft:tiny:acme:demo:1' added successfully."
    )
    assert "ft:tiny:acme:demo:1" in {m.id for m in client.models.list()}
    assert greedy(client, "ft:tiny:acme:demo:1") != greedy(client, "tiny")

    again = http.post("/load_lora_adapter", json={"lora_name": "ft:tiny:acme:demo:1", "lora_path": str(chatml_adapter)})
    assert again.status_code == 200  # registering the same folder twice is harmless (engine restarts, retries)

    unloaded = http.post("/unload_lora_adapter", json={"lora_name": "ft:tiny:acme:demo:1"})
    assert unloaded.status_code == 200
    with pytest.raises(openai.NotFoundError):
        greedy(client, "ft:tiny:acme:demo:1")
    gone = http.post("/unload_lora_adapter", json={"lora_name": "ft:tiny:acme:demo:1"})
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "model_not_found"


def test_a_name_cannot_point_at_two_folders(fresh, chatml_adapter, plain_adapter):
    _, http, _ = fresh
    assert (
        http.post("/load_lora_adapter", json={"lora_name": "twice", "lora_path": str(chatml_adapter)}).status_code
        == 200
    )
    clash = http.post("/load_lora_adapter", json={"lora_name": "twice", "lora_path": str(plain_adapter)})
    assert clash.status_code == 400 and clash.json()["error"]["param"] == "lora_name"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"lora_name": "x", "lora_path": "/no/such/folder"}, "lora_path"),
        ({"lora_path": "/tmp"}, "lora_name"),
        ({"lora_name": "tiny", "lora_path": "PLACEHOLDER"}, "lora_name"),
    ],
)
def test_bad_registrations_are_a_400(fresh, chatml_adapter, body, param):
    _, http, _ = fresh
    body = {k: str(chatml_adapter) if v == "PLACEHOLDER" else v for k, v in body.items()}
    response = http.post("/load_lora_adapter", json=body)
    assert response.status_code == 400 and response.json()["error"]["param"] == param


def test_past_the_budget_the_least_recently_used_adapter_is_evicted_and_reloaded(
    make_engine, chatml_adapter, plain_adapter
):
    size = (chatml_adapter / "adapter_model.safetensors").stat().st_size
    engine = make_engine(adapter_memory_mb=2.5 * size / 2**20)  # room for two adapters
    with serving(engine) as url, httpx.Client(base_url=url, timeout=120) as http:
        client = OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=120)
        for name, path in [("a", chatml_adapter), ("b", plain_adapter)]:
            http.post("/load_lora_adapter", json={"lora_name": name, "lora_path": str(path)}).raise_for_status()
        before = greedy(client, "a")  # "a" is now the most recently used, "b" the least
        http.post("/load_lora_adapter", json={"lora_name": "c", "lora_path": str(chatml_adapter)}).raise_for_status()
        health = http.get(url.removesuffix("/v1") + "/health").json()
        assert health["adapters_loaded"] == ["a", "c"]
        assert health["adapter_memory_bytes"] <= health["adapter_memory_budget_bytes"]

        loads = engine.pool.loads
        assert "b" in {m.id for m in client.models.list()}  # evicted, still registered
        greedy(client, "b")  # reloaded from its folder, transparently
        assert engine.pool.loads == loads + 1
        assert http.get(url.removesuffix("/v1") + "/health").json()["adapters_loaded"] == ["c", "b"]
        assert greedy(client, "a") == before  # "a" was evicted in turn and comes back the same
