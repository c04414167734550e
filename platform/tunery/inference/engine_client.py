"""Talking to the inference engine (Tunery's or vLLM): adapters are registered under an
internal name; tenants only ever see their `ft:` model names."""
import threading

import httpx
from django.conf import settings

from tunery.jobs.naming import ResolvedModel

_registered: set[str] = set()  # adapters this process has registered with the engine
_lock = threading.Lock()


class EngineUnavailable(Exception):
    pass


def engine_model(resolved: ResolvedModel) -> str:
    """The name the engine knows: the base model, or the job (and checkpoint) id."""
    if resolved.checkpoint:
        return f"{resolved.job.public_id}-step-{resolved.checkpoint.step}"
    if resolved.job:
        return resolved.job.public_id
    return resolved.base.name


def register(name: str, path: str, client: httpx.Client | None = None) -> None:
    """POST /v1/load_lora_adapter; an adapter the engine already has is fine."""
    client = client or httpx.Client(timeout=30)  # loading an adapter takes seconds
    try:
        response = client.post(f"{settings.TUNERY_ENGINE_URL}/v1/load_lora_adapter", json={"lora_name": name, "lora_path": path})
    except httpx.HTTPError as error:
        raise EngineUnavailable(str(error)) from error
    if response.status_code >= 400 and "already" not in response.text:
        raise EngineUnavailable(f"The engine refused adapter {name}: {response.text[:200]}")
    with _lock:
        _registered.add(name)


def ensure_registered(resolved: ResolvedModel) -> str:
    name = engine_model(resolved)
    if resolved.adapter_path and name not in _registered:
        register(name, resolved.adapter_path)
    return name


def forget(name: str) -> None:
    """After the engine said it does not know `name` (it restarted): register again next time."""
    with _lock:
        _registered.discard(name)


def unload(name: str) -> None:
    forget(name)
    try:
        httpx.post(f"{settings.TUNERY_ENGINE_URL}/v1/unload_lora_adapter", json={"lora_name": name}, timeout=10)
    except httpx.HTTPError:
        pass  # the engine is down: nothing is loaded there anyway
