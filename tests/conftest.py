"""Shared fixtures: three personas — the owner and a member of organization A,
and an outsider who owns organization B — plus API clients and a headless browser."""

import os
import shutil
import socket
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
import uvicorn
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tunery.apikeys.models import ApiKey
from tunery.jobs.models import BaseModel
from tunery.orgs.models import Membership
from tunery.orgs.roles import Role, Scope
from tunery.orgs.services import create_organization

PASSWORD = "a long test passphrase"

# Redis outlives test runs: a fresh key namespace per run keeps old rate-limit counters and
# cached values from leaking in (caches are built lazily, after this line).
RUN_ID = f"test-{uuid.uuid4().hex[:12]}"
settings.CACHES["default"]["KEY_PREFIX"] = RUN_ID
# Requests served in other threads (uvicorn under `serve`) close their connection when they
# end, so none is left open when the test database is dropped.
settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
# Likewise for Celery's queues when the broker is Redis (read when the app first connects);
# the environment carries it to worker subprocesses.
os.environ["TUNERY_QUEUE_PREFIX"] = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = RUN_ID + ":"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Two test runs on one PostgreSQL (a second checkout, a run beside CI) each get their own
    test database instead of dropping each other's."""
    database = settings.DATABASES["default"]
    if "postgresql" in database["ENGINE"] and not database.setdefault("TEST", {}).get("NAME"):
        database["TEST"]["NAME"] = f"test_{database['NAME']}_{os.getpid()}"


def make_user(email: str):
    user = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture
def owner_a(db):
    user = make_user("owner@a.test")
    create_organization(user, "Org A")
    return user


@pytest.fixture
def org_a(owner_a):
    return owner_a.memberships.get().organization


def _join(org, email: str, role: str):
    user = make_user(email)
    Membership.objects.create(organization=org, user=user, role=role)
    return user


@pytest.fixture
def member_a(org_a):
    return _join(org_a, "member@a.test", Role.MEMBER)


@pytest.fixture
def viewer_a(org_a):
    return _join(org_a, "viewer@a.test", Role.VIEWER)


@pytest.fixture
def outsider_b(db):
    user = make_user("outsider@b.test")
    create_organization(user, "Org B")
    return user


@pytest.fixture
def org_b(outsider_b):
    return outsider_b.memberships.get().organization


def wait_for(predicate, timeout: float = 120, every: float = 0.2):
    """Poll until `predicate()` is truthy and return its value (work done by workers)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out")


def signed_in(client, user):
    client.force_login(user)
    return client


def key_client(organization, scopes=tuple(Scope.values)) -> APIClient:
    """An API client that authenticates with a fresh key of `organization`."""
    _, secret = ApiKey.issue(organization, name="test", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.secret = secret
    return client


@pytest.fixture
def api_a(org_a):
    return key_client(org_a)


@pytest.fixture
def api_b(org_b):
    return key_client(org_b)


@pytest.fixture
def browser():
    """Debian's headless Chromium through Selenium and Debian's chromedriver (never a download)."""
    if not shutil.which("chromedriver"):
        pytest.fail("chromedriver is missing: bin/setup --dev installs Debian's chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console messages, e.g. CSP refusals
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def tiny_model_folder(tmp_path_factory):
    """A tiny random Llama with the embedded tokenizer: the real training code in seconds."""
    from workers.ml.base_models import make_tiny_random_model

    folder = tmp_path_factory.mktemp("tiny-llama")
    make_tiny_random_model(folder)
    return folder


@pytest.fixture
def tiny_base(db, tiny_model_folder):
    from tunery.billing.models import Price
    from tunery.billing.prices import DEFAULT_PRICES

    base = BaseModel.objects.create(
        name="tiny-llama",
        source="local",
        path=str(tiny_model_folder),
        max_seq_len=256,
        lora_target_modules=["q_proj", "v_proj"],
    )
    Price.objects.create(base_model=base, **DEFAULT_PRICES["small"])
    return base


@pytest.fixture
def embedded_base(db):
    """The embedded base model's catalogue row (a migration adds it, but transactional tests
    empty every table when they end)."""
    from tunery.billing.models import Price
    from tunery.jobs.catalogue import ensure_embedded_default

    return ensure_embedded_default(BaseModel, Price)


@pytest.fixture
def training_file_a(api_a):
    from tests.datasets import chat_jsonl
    from tests.files.helpers import upload_and_inspect

    return upload_and_inspect(api_a, "train.jsonl", chat_jsonl(30))


def run_job_here(api, training_file, validation_file=None, **hyperparameters):
    """Create a job and run its cpu and gpu tasks in this thread (tiny model: seconds)."""
    from tunery.jobs import runner
    from tunery.jobs.models import FineTuningJob

    body = api.post(
        "/v1/fine_tuning/jobs",
        {
            "model": "tiny-llama",
            "training_file": training_file.public_id,
            "validation_file": validation_file.public_id if validation_file else None,
            "suffix": "demo",
            "hyperparameters": {"n_epochs": 1, **hyperparameters},
        },
        format="json",
    ).json()
    job = FineTuningJob.objects.get(public_id=body["id"])
    runner.prepare(job.pk, job.organization_id)
    runner.train(job.pk, job.organization_id)
    job.refresh_from_db()
    return job


@pytest.fixture
def succeeded_job(api_a, tiny_base, training_file_a, monkeypatch):
    monkeypatch.setattr("tunery.jobs.runner.enqueue_training", lambda job: None)
    job = run_job_here(api_a, training_file_a)
    assert job.status == "succeeded", job.error
    return job


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker on the real broker (Redis in CI), in a thread of the test process,
    consuming both queues. Tests that use it see committed data only, hence transactional_db."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connection

    from tunery.celery import app

    def close_connection(**kwargs):  # the test database is dropped at the end: leave no session open
        connection.close()

    task_postrun.connect(close_connection, weak=False)
    try:
        with start_worker(
            app,
            pool="threads",
            concurrency=2,
            queues=["cpu", "gpu"],
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=60,
        ) as worker:
            yield worker
    finally:
        task_postrun.disconnect(close_connection)


@pytest.fixture(autouse=True)
def forget_remembered_keys_and_models():
    """API keys and model names the web code remembers in the process (apikeys/key_cache.py,
    inference/model_cache.py) must not outlive their test: a later one may reuse their ids."""
    yield
    from tunery.apikeys import key_cache
    from tunery.inference import model_cache

    key_cache.clear()
    model_cache.forget_all()


@pytest.fixture(scope="session", autouse=True)
def forget_this_runs_redis_keys():
    """Leave Redis as we found it: drop this run's cache entries and queues at the end."""
    yield
    if os.environ.get("REDIS_URL"):
        import redis

        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        for key in client.scan_iter(f"*{RUN_ID}*", count=1000):
            client.delete(key)


# The gateway end to end: Django under uvicorn (ASGI, as in production) in front of Tunery's
# engine serving the tiny model, both on loopback in threads of the test process.


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

    engine = Engine(
        EngineConfig(spec=local_spec(str(tiny_model_folder), 256, None), served_name="tiny-llama", device="cpu")
    )
    with serve(create_app(engine)) as url:
        yield url


@pytest.fixture
def gateway_url(transactional_db, engine_url, settings):
    """Tunery's ASGI app under uvicorn: streaming is relayed as it would be in production."""
    from tunery.asgi import application

    settings.TUNERY_ENGINE_URL = engine_url
    with serve(application) as url:
        yield url
