"""The inference gateway: `/v1/chat/completions` and `/v1/completions`.

Authenticates the key, resolves the tenant's `ft:` name to an adapter, enforces rate limits,
forwards to the engine and meters usage. Streams are relayed chunk by chunk through an async
iterator, so under ASGI nothing is buffered.
"""

import json
import time

from asgiref.sync import async_to_sync
from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from tunery.api.errors import ApiError, error_body
from tunery.api.views import OrganizationAPIView
from tunery.billing.limits import check_inference_allowed
from tunery.inference import engine_client, metering, model_cache, ratelimits
from tunery.inference.engine_client import engine_reply
from tunery.inference.usage import parse_days, usage_report
from tunery.inference.validation import validate
from tunery.orgs.roles import Scope


def _not_found(model: str) -> ApiError:
    return ApiError(
        f"The model `{model}` does not exist or you do not have access to it.",
        status_code=404,
        code="model_not_found",
        param="model",
    )


class Completions(OrganizationAPIView):
    endpoint = "chat.completions"
    path = "/v1/chat/completions"
    write_scope = Scope.INFERENCE

    @extend_schema(request=dict, responses={200: dict})
    def post(self, request):
        body = validate(request.data, self.endpoint)
        public_model = body["model"]
        resolved = model_cache.resolve(request.organization, public_model)
        if resolved is None:
            raise _not_found(public_model)
        api_key = getattr(request.user, "api_key", None)
        ratelimits.check(request.organization, api_key)
        check_inference_allowed(request.organization)
        try:
            engine_name = engine_client.ensure_registered(resolved)
        except engine_client.EngineUnavailable as error:
            raise ApiError(f"The inference engine is unavailable: {error}", status_code=503, code="engine_unavailable")
        meter = dict(
            organization=request.organization,
            api_key=api_key,
            model=public_model,
            base_model=resolved.base,
            endpoint=self.endpoint,
            stream=bool(body.get("stream")),
        )
        upstream = {**body, "model": engine_name}
        if body.get("stream"):
            wants_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            # Always meter streams, and with usage on every chunk (vLLM's continuous_usage_stats,
            # which Tunery's engine speaks too) a stream the client abandons is metered up to there.
            upstream["stream_options"] = {"include_usage": True, "continuous_usage_stats": True}
            response = StreamingHttpResponse(
                self._relay(upstream, resolved, public_model, wants_usage, meter), content_type="text/event-stream"
            )
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"  # tell proxies not to buffer either
            return response
        return self._forward(upstream, resolved, public_model, meter)

    def _forward(self, upstream: dict, resolved, public_model: str, meter: dict) -> Response:
        started = time.monotonic()
        try:
            status, data = async_to_sync(self._exchange)(upstream, resolved)
        except engine_client.EngineUnavailable as error:
            raise ApiError(f"The inference engine is unavailable: {error}", status_code=503, code="engine_unavailable")
        if status == 200:
            data["model"] = public_model
        elif status == 404:
            raise _not_found(public_model)
        latency_ms = (time.monotonic() - started) * 1000
        return MeteredResponse(
            data,
            status=status,
            meter=lambda: metering.record_answered(
                **meter, status_code=status, usage=data.get("usage"), latency_ms=latency_ms
            ),
        )

    async def _exchange(self, upstream: dict, resolved) -> tuple[int, dict]:
        async with engine_reply(self.path, upstream, resolved) as reply:
            text = (await reply.aread()).decode(errors="replace")
        return reply.status_code, _json_or_error(text, reply.status_code)

    async def _relay(self, upstream: dict, resolved, public_model: str, wants_usage: bool, meter: dict):
        """Relay the engine's events, rewriting the model name. The call is metered when the
        engine's events end (or the client goes away), in the background: neither the final
        `[DONE]` nor a cancelled stream waits for the write, and nothing depends on Django
        resuming this generator after `[DONE]` (a client that closes on `[DONE]` cancels it)."""
        started = time.monotonic()
        outcome = {"status": 200, "usage": None, "first_token_at": None}
        try:
            async for piece in self._engine_events(upstream, resolved, public_model, wants_usage, outcome):
                yield piece
        finally:
            first = outcome["first_token_at"]
            metering.record_in_background(
                **meter,
                status_code=outcome["status"],
                usage=outcome["usage"],
                latency_ms=(time.monotonic() - started) * 1000,
                ttft_ms=(first - started) * 1000 if first else None,
            )
        yield b"data: [DONE]\n\n"

    async def _engine_events(self, upstream: dict, resolved, public_model: str, wants_usage: bool, outcome: dict):
        try:
            async with engine_reply(self.path, upstream, resolved) as reply:
                if reply.status_code != 200:
                    outcome["status"] = reply.status_code
                    text = (await reply.aread()).decode(errors="replace")
                    yield _sse(_json_or_error(text, reply.status_code))
                    return
                async for line in reply.aiter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    chunk = json.loads(line[6:])
                    if "error" in chunk:
                        outcome["status"] = 500
                        yield _sse(chunk)
                        continue
                    chunk["model"] = public_model
                    if chunk.get("usage"):
                        outcome["usage"] = chunk["usage"]
                        if chunk.get("choices"):
                            chunk["usage"] = None  # clients get usage on the last chunk only, as from OpenAI
                        elif not wants_usage:
                            continue
                    if outcome["first_token_at"] is None and chunk.get("choices"):
                        outcome["first_token_at"] = time.monotonic()
                    yield _sse(chunk)
        except engine_client.EngineUnavailable as error:
            outcome["status"] = 503
            yield _sse(error_body(f"The inference engine is unavailable: {error}", 503, code="engine_unavailable"))


class MeteredResponse(Response):
    """A reply that meters its call when Django closes it, which it does once the body has gone
    out (under ASGI and WSGI alike): the client does not wait for the usage row to be written.
    A process that dies in between loses the row, as one that died just before the write always
    did (docs/operations.md, "Load", says why the record is not buffered or queued instead)."""

    def __init__(self, data, *, status: int, meter):
        super().__init__(data, status=status)
        self._meter = meter

    def close(self):
        # Before Django's own close, which sends request_finished: that closes this thread's
        # database connection (or hands it back to the pool), so the write must come first.
        try:
            self._meter()
        finally:
            super().close()


def _json_or_error(text: str, status: int) -> dict:
    """The engine's JSON body, or an OpenAI-style error around a body that is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return error_body(text[:500], status)


def _sse(data: dict) -> bytes:
    return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"


class TextCompletions(Completions):
    endpoint = "completions"
    path = "/v1/completions"


class Usage(OrganizationAPIView):
    """Tunery: requests, tokens and latency p50/p95 by day, model and key (`?days=30`)."""

    @extend_schema(operation_id="retrieve_usage", responses={200: dict})
    def get(self, request):
        try:
            days = parse_days(request.query_params.get("days", "30"))
        except ValueError as error:
            raise ApiError(str(error), param="days", code="invalid_value")
        return Response(usage_report(request.organization, days))
