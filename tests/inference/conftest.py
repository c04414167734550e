"""The gateway end to end: Django under uvicorn (ASGI, as in production) in front of Tunery's
engine serving the tiny model, both on loopback in threads of the test process."""
import socket
import threading
import time
from contextlib import contextmanager

import pytest
import uvicorn


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(app):
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def engine_url(tiny_model_folder):
    from workers.engine.app import create_app
    from workers.engine.config import EngineConfig, local_spec
    from workers.engine.engine import Engine

    engine = Engine(EngineConfig(spec=local_spec(str(tiny_model_folder), 256, None), served_name="tiny-llama", device="cpu"))
    with serve(create_app(engine)) as url:
        yield url


@pytest.fixture
def gateway_url(transactional_db, engine_url, settings):
    """Tunery's ASGI app under uvicorn: streaming is relayed as it would be in production."""
    from tunery.asgi import application

    settings.TUNERY_ENGINE_URL = engine_url
    with serve(application) as url:
        yield url
