"""A stand-in for the inference engine that answers at once, for measuring the gateway's own
overhead: the real engine spends tens to hundreds of milliseconds of CPU per call on the
embedded model, which on a shared 2-core machine would swamp a 5 ms difference.

A bare ASGI app (no framework, so it adds next to nothing itself):

    uvicorn bench.load.fake_engine:app --port 8011
"""

import json

REPLY = {
    "id": "chatcmpl-load",
    "object": "chat.completion",
    "created": 0,
    "model": "",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13},
}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    model = json.loads(body or b"{}").get("model", "") if scope["method"] == "POST" else ""
    payload = json.dumps({**REPLY, "model": model}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
