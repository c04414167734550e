"""Server time per request, measured inside the web process: Tunery's ASGI application (the one
uvicorn serves, body guard and all) called directly from an event loop, one request at a time,
with no HTTP server or load tool in between. Each request's wall time and the process's CPU time
(time.process_time: every thread of this process, nothing of PostgreSQL, Redis or the engine)
are recorded. On a shared, loaded machine the wall time stretches with the load; the CPU time
is what the request itself costs the web process, and does not.

    bench/load/server_time.sh                  # a fresh database, seeded, every scenario, dropped
    DATABASE_URL=… LOAD_API_KEY=… python bench/load/server_time.py gateway [calls]

Scenarios: `gateway` (a chat call through the gateway to bench/load/fake_engine.py, started
here on a free port), `list` (jobs and files, 20 a page), `retrieve` (a job, a file).
"""

import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHAT = {"messages": [{"role": "user", "content": "Say ok"}], "max_tokens": 1}
WARM_UP = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_engine() -> subprocess.Popen:
    port = _free_port()
    engine = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(__file__).parent), "fake_engine:app"]
        + ["--port", str(port), "--log-level", "warning"]
    )
    os.environ["TUNERY_ENGINE_URL"] = f"http://127.0.0.1:{port}"
    for _ in range(100):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return engine
        time.sleep(0.1)
    raise RuntimeError("the fake engine did not start")


async def call(app, method: str, path: str, headers: dict, body: bytes = b"") -> tuple[int, bytes, float]:
    """One request through the ASGI application, as uvicorn would make it: its status, its body
    and when the body's last byte was sent."""
    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")]
        + [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        + ([(b"content-length", str(len(body)).encode())] if body else []),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    status, chunks, answered = 0, [], None

    async def receive():
        if pending:
            return pending.pop()
        await asyncio.Future()  # the client never goes away

    async def send(message):
        nonlocal status, answered
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                answered = time.perf_counter()  # what the client waits for; the app may go on

    await app(scope, receive, send)
    return status, b"".join(chunks), answered


def _requests(scenario: str, api_key: str, app_loop) -> list:
    """(method, path, body) to cycle through for a scenario."""
    if scenario == "gateway":
        model = os.environ.get("LOAD_MODEL") or _embedded_model()
        return [("POST", "/v1/chat/completions", json.dumps({**CHAT, "model": model}).encode())]
    jobs = _ids(app_loop, api_key, "/v1/fine_tuning/jobs?limit=100")
    files = _ids(app_loop, api_key, "/v1/files?limit=100")
    if scenario == "list":
        return [
            ("GET", "/v1/fine_tuning/jobs?limit=20", b""),
            ("GET", "/v1/files?limit=20", b""),
            *[("GET", f"/v1/fine_tuning/jobs?limit=20&after={job}", b"") for job in jobs[:20]],
        ]
    if scenario == "retrieve":
        return [("GET", f"/v1/fine_tuning/jobs/{job}", b"") for job in jobs] + [
            ("GET", f"/v1/files/{file}", b"") for file in files
        ]
    raise SystemExit(f"unknown scenario {scenario!r}: gateway, list or retrieve")


def _embedded_model() -> str:
    from tunery.jobs.catalogue import ensure_embedded_default
    from tunery.jobs.models import BaseModel

    return ensure_embedded_default(BaseModel).name


def _ids(app_loop, api_key: str, path: str) -> list[str]:
    app, loop = app_loop
    status, body, _ = loop.run_until_complete(call(app, "GET", path, {"Authorization": f"Bearer {api_key}"}))
    assert status == 200, body[:300]
    return [row["id"] for row in json.loads(body)["data"]]


def measure(scenario: str, calls: int) -> dict:
    api_key = os.environ["LOAD_API_KEY"]
    engine = _start_engine() if scenario == "gateway" else None
    try:
        from tunery.asgi import application

        loop = asyncio.new_event_loop()
        requests = _requests(scenario, api_key, (application, loop))
        rng = random.Random(0)
        walls, cpus = [], []
        for n in range(WARM_UP + calls):
            method, path, body = rng.choice(requests)
            headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
            cpu, started = time.process_time(), time.perf_counter()
            status, reply, answered = loop.run_until_complete(call(application, method, path, headers, body))
            wall, cpu = answered - started, time.process_time() - cpu
            assert status == 200, (status, reply[:300])
            if n >= WARM_UP:
                walls.append(wall * 1000)
                cpus.append(cpu * 1000)
        return {
            "scenario": scenario,
            "calls": calls,
            "cpu_ms_mean": round(statistics.fmean(cpus), 2),
            "cpu_ms_p50": round(statistics.median(cpus), 2),
            "wall_ms_p50": round(statistics.median(walls), 2),
            "wall_ms_p99": round(statistics.quantiles(walls, n=100)[98], 2),
            "load_average": round(os.getloadavg()[0], 1),
        }
    finally:
        if engine:
            engine.terminate()
            engine.wait()


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tunery.settings")
    scenario = sys.argv[1] if len(sys.argv) > 1 else "gateway"
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    print(json.dumps(measure(scenario, calls)))


if __name__ == "__main__":
    main()
