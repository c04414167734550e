"""Talking to the inference engine (Tunery's or vLLM): adapters are registered under an
internal name; tenants only ever see their `ft:` model names."""

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from asgiref.sync import sync_to_async
from django.conf import settings

from tunery.jobs.naming import ResolvedModel

_registered: set[str] = set()  # adapters this process has registered with the engine
_lock = threading.Lock()
_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]" = weakref.WeakKeyDictionary()


class EngineUnavailable(Exception):
    pass


def engine_model(resolved: ResolvedModel) -> str:
    """The name the engine knows: the base model, or the job (and checkpoint) id."""
    if resolved.checkpoint:
        return f"{resolved.job.public_id}-step-{resolved.checkpoint.step}"
    if resolved.job:
        return resolved.job.public_id
    return resolved.base.name


def register(name: str, path: str) -> None:
    """POST /v1/load_lora_adapter; an adapter the engine already has is fine."""
    try:
        # Loading an adapter takes seconds.
        response = httpx.post(
            f"{settings.TUNERY_ENGINE_URL}/v1/load_lora_adapter",
            json={"lora_name": name, "lora_path": path},
            timeout=30,
        )
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


@asynccontextmanager
async def engine_reply(path: str, upstream: dict, resolved: ResolvedModel) -> AsyncIterator[httpx.Response]:
    """POST `upstream` to the engine and yield its reply, unread (a stream can be relayed as it
    comes). The one forward path of the gateway, for streams and plain replies alike: when the
    engine does not know an adapter (it restarted; vLLM and Tunery's engine both answer 404),
    the adapter is registered again and the request sent once more. Raises EngineUnavailable
    when the engine cannot be reached or breaks off."""
    url = settings.TUNERY_ENGINE_URL + path
    client = _client()
    try:
        for attempt in (1, 2):
            async with client.stream("POST", url, json=upstream, timeout=settings.TUNERY_ENGINE_TIMEOUT) as reply:
                if attempt == 1 and reply.status_code == 404 and resolved.adapter_path:
                    forget(upstream["model"])
                    await sync_to_async(register)(upstream["model"], resolved.adapter_path)
                    continue
                yield reply
                return
    except httpx.HTTPError as error:
        raise EngineUnavailable(str(error)) from error


def _client() -> httpx.AsyncClient:
    """The event loop's client for the engine. Building one costs about 100 ms of CPU (it loads
    the CA bundle into an SSL context), which was most of the gateway's time per call, and its
    pool keeps connections to the engine open between calls. One per loop because a client
    belongs to the loop it first ran on: under uvicorn every call of a process shares the one
    loop; async_to_sync outside ASGI (tests, commands) makes a loop per call."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = httpx.AsyncClient()
    return client
