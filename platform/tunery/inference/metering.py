"""Usage records: one row per gateway call, read by usage charging (charges.py) and the usage
report (usage.py)."""

import asyncio
import logging

from asgiref.sync import sync_to_async
from django.db import connection

from tunery.inference.models import InferenceRequest

logger = logging.getLogger(__name__)
# Writes started by record_in_background and not finished yet (the loop keeps only weak
# references to tasks).
_writing: set[asyncio.Task] = set()


def record(
    *,
    organization,
    api_key,
    model: str,
    base_model,
    endpoint: str,
    stream: bool,
    status_code: int,
    usage: dict | None,
    latency_ms: float,
    ttft_ms: float | None = None,
) -> None:
    usage = usage or {}
    InferenceRequest.objects.create(
        organization=organization,
        api_key=api_key,
        model=model,
        base_model=base_model,
        endpoint=endpoint,
        stream=stream,
        status_code=status_code,
        prompt_tokens=usage.get("prompt_tokens") or 0,
        completion_tokens=usage.get("completion_tokens") or 0,
        latency_ms=round(latency_ms),
        time_to_first_token_ms=round(ttft_ms) if ttft_ms is not None else None,
    )


def record_answered(**fields) -> None:
    """record(), for a call whose answer the client already has: a failure to write (the database
    down) can no longer be the client's error, so it is logged, with what is needed to charge the
    call by hand, instead of raised."""
    try:
        record(**fields)
    except Exception:
        usage = fields.get("usage") or {}
        logger.exception(
            "inference call answered but not metered",
            extra={
                "organization": fields["organization"].public_id,
                "api_key": getattr(fields.get("api_key"), "public_id", None),
                "model": fields["model"],
                "status": fields["status_code"],
                "prompt_tokens": usage.get("prompt_tokens"),
                "completion_tokens": usage.get("completion_tokens"),
            },
        )


def record_in_background(**fields) -> None:
    """From the event loop: record_answered in a thread, as a task of its own that the caller
    does not wait for and whose cancellation (the client going away) does not stop the write."""
    task = asyncio.get_running_loop().create_task(sync_to_async(_record_and_close, thread_sensitive=False)(**fields))
    _writing.add(task)
    task.add_done_callback(_writing.discard)


def _record_and_close(**fields) -> None:
    try:
        record_answered(**fields)
    finally:
        # A thread of the executor, outside any request: nothing else would close its
        # connection (or hand it back to the web process's pool).
        connection.close()
