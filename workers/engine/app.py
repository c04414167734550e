"""HTTP routes: the OpenAI protocol subset plus vLLM's runtime LoRA endpoints.

Every failure answers ``{"error": {"message", "type", "param", "code"}}`` with its status:
400 for a bad request, 404 for an unknown model or route, 500 (logged, no traceback) for a bug.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from workers.engine.engine import Engine, Job, RequestStream
from workers.engine.errors import EngineError, bad_request, model_not_found, server_error
from workers.engine.protocol import (
    ChatRequest,
    CompletionRequest,
    parse_chat,
    parse_completion,
    parse_load_adapter,
    parse_unload_adapter,
)
from workers.engine.responses import Chunker, Collector, Envelope, Kind
from workers.engine.scheduler import ChoiceUpdate

log = logging.getLogger(__name__)


def _engine(request: Request) -> Engine:
    return request.app.state.engine


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise bad_request("The request body is not valid JSON.") from None


async def _generate(request: Request, kind: Kind) -> Response:
    engine = _engine(request)
    body = await _json(request)
    parsed: ChatRequest | CompletionRequest
    if kind == "chat":
        parsed = parse_chat(body)
        job = engine.chat_job(parsed)
    else:
        parsed = parse_completion(body)
        job = engine.completion_job(parsed)
    envelope = Envelope(kind, parsed.model)
    stream = engine.submit(job)
    try:
        # The first batch of tokens (or an error, e.g. an adapter that no longer loads) comes
        # before any header is sent, so a failure is still an honest HTTP status.
        first = await anext(stream)
    except BaseException:
        stream.cancel()
        raise
    if not parsed.stream.stream:
        collector = Collector(envelope, job.choices, job.logprobs, engine.token_text)
        collector.add(first)
        try:
            async for updates in stream:
                collector.add(updates)
        finally:
            stream.cancel()  # no-op when complete; stops the rows if this task is cancelled
        return JSONResponse(collector.response(job.prompt_tokens))
    chunker = Chunker(
        envelope,
        job.choices,
        job.logprobs,
        parsed.stream.include_usage,
        engine.token_text,
        job.prompt_tokens,
        parsed.stream.continuous_usage,
    )
    return StreamingResponse(_events(stream, first, chunker, job), media_type="text/event-stream")


async def _events(stream: RequestStream, first: list[ChoiceUpdate], chunker: Chunker, job: Job) -> AsyncIterator[str]:
    try:
        yield chunker.start() + chunker.updates(first)
        async for updates in stream:
            yield chunker.updates(updates)
        yield chunker.end(job.prompt_tokens)
    except EngineError as error:
        # Headers are gone: report in-band, as OpenAI does for mid-stream failures.
        yield f"data: {json.dumps(error.body())}\n\n"
    finally:
        stream.cancel()  # the client disconnected, or the stream is over


async def chat_completions(request: Request) -> Response:
    return await _generate(request, "chat")


async def completions(request: Request) -> Response:
    return await _generate(request, "completion")


async def list_models(request: Request) -> Response:
    return JSONResponse({"object": "list", "data": _engine(request).models()})


async def retrieve_model(request: Request) -> Response:
    name = request.path_params["model"]
    for model in _engine(request).models():
        if model["id"] == name:
            return JSONResponse(model)
    raise model_not_found(name)


async def load_lora_adapter(request: Request) -> Response:
    name, path = parse_load_adapter(await _json(request))
    added = await _engine(request).load_adapter(name, path)
    message = "added successfully" if added else "was already loaded"
    return PlainTextResponse(f"Success: LoRA adapter '{name}' {message}.")


async def unload_lora_adapter(request: Request) -> Response:
    name = parse_unload_adapter(await _json(request))
    await _engine(request).unload_adapter(name)
    return PlainTextResponse(f"Success: LoRA adapter '{name}' removed successfully.")


async def health(request: Request) -> Response:
    return JSONResponse(await _engine(request).status())


async def _engine_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EngineError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error = EngineError(exc.status_code, exc.detail, "invalid_request_error", None, None)
    return JSONResponse(error.body(), status_code=exc.status_code)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(server_error("The engine failed to handle the request.").body(), status_code=500)


def create_app(engine: Engine) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine.start()
        try:
            yield
        finally:
            engine.close()

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model:path}", retrieve_model, methods=["GET"]),
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/completions", completions, methods=["POST"]),
        Route("/v1/load_lora_adapter", load_lora_adapter, methods=["POST"]),
        Route("/v1/unload_lora_adapter", unload_lora_adapter, methods=["POST"]),
    ]
    handlers = {EngineError: _engine_error, HTTPException: _http_error, Exception: _unexpected}
    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan)  # type: ignore[arg-type]
    app.state.engine = engine
    return app
