"""An engine stand-in for fault tests: every chat call streams one token every 50 ms, with
usage on every chunk (as Tunery's engine and vLLM do with continuous_usage_stats), and never
finishes on its own, so a test can kill it mid-stream.

    python -m uvicorn --app-dir tests/ops slow_stream_engine:app --port PORT
"""

import asyncio
import json


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
    for n in range(1, 100_000):
        chunk = {
            "id": "chatcmpl-slow",
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": None}],
            "usage": {"prompt_tokens": 7, "completion_tokens": n, "total_tokens": 7 + n},
        }
        await send({"type": "http.response.body", "body": f"data: {json.dumps(chunk)}\n\n".encode(), "more_body": True})
        await asyncio.sleep(0.05)
