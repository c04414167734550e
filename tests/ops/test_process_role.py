"""Only the web process gets a pool of PostgreSQL connections, and it does not pass it on:
tunery.asgi used to set TUNERY_DB_POOL in os.environ, which every process it started (a Celery
worker forked by a test run, a management command) inherited."""

import json
import os
import subprocess
import sys

import pytest

# Imports the web entry point, then reports its own database settings, its environment, and
# those of a child process that loads the settings the way a Celery worker does.
PROBE = """
import json, os, subprocess, sys
import tunery.asgi
from django.conf import settings
child = subprocess.run(
    [sys.executable, "-c",
     "import django, json; django.setup(); from django.conf import settings; "
     "print(json.dumps('pool' in settings.DATABASES['default'].get('OPTIONS', {})))"],
    capture_output=True, text=True, check=True,
)
print(json.dumps({
    "web_pool": "pool" in settings.DATABASES["default"].get("OPTIONS", {}),
    "environment": sorted(name for name in os.environ if name.startswith("TUNERY_DB")),
    "child_pool": json.loads(child.stdout),
}))
"""


def _probe(**environment) -> dict:
    env = {name: value for name, value in os.environ.items() if not name.startswith("TUNERY_DB")}
    env.update(environment, DJANGO_SETTINGS_MODULE="tunery.settings")
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture
def postgres_url():
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the pool is for PostgreSQL: run with DATABASE_URL (bin/services)")
    return os.environ["DATABASE_URL"]


def test_the_web_process_pools_connections_and_its_children_do_not_inherit_the_pool(postgres_url):
    assert _probe(DATABASE_URL=postgres_url) == {"web_pool": True, "environment": [], "child_pool": False}


def test_tunery_db_pool_still_overrides_for_an_operator(postgres_url):
    assert _probe(DATABASE_URL=postgres_url, TUNERY_DB_POOL="0")["web_pool"] is False
