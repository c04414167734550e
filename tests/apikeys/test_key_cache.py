"""Verified keys are remembered for KEY_CACHE_SECONDS: no database look-up per API call, and a
revocation still takes effect at once in the process that made it and within the bound in any
other (here: a change written without this process's signals, as another process's would be)."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import key_client
from tunery.apikeys import key_cache
from tunery.apikeys.models import ApiKey


@pytest.fixture
def clock(monkeypatch):
    """The cache's clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(key_cache, "_clock", lambda: now[0])
    return now


def _key_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/v1/organization").status_code == 200
    return sum('FROM "apikeys_apikey"' in query["sql"] for query in queries.captured_queries)


def test_a_key_is_looked_up_once_then_remembered(org_a, clock):
    client = key_client(org_a)
    assert _key_queries(client) == 1
    assert _key_queries(client) == 0
    clock[0] += key_cache.KEY_CACHE_SECONDS + 1
    assert _key_queries(client) == 1  # looked up again once the entry expired


def test_a_key_revoked_here_is_refused_at_once(org_a, clock):
    client = key_client(org_a)
    assert client.get("/v1/organization").status_code == 200
    ApiKey.objects.get(organization=org_a).revoke()
    refused = client.get("/v1/organization")
    assert refused.status_code == 401 and refused.json()["error"]["message"] == "This API key has been revoked."


def test_a_key_revoked_elsewhere_is_refused_within_the_bound(org_a, clock):
    client = key_client(org_a)
    assert client.get("/v1/organization").status_code == 200
    # Another process revokes it: the row changes, this process hears nothing.
    ApiKey.objects.filter(organization=org_a).update(revoked_at=timezone.now())
    clock[0] += key_cache.KEY_CACHE_SECONDS - 1
    assert client.get("/v1/organization").status_code == 200  # still remembered: the stated bound
    clock[0] += 2
    assert client.get("/v1/organization").status_code == 401


def test_a_key_deleted_with_its_organization_is_refused_at_once(org_a, clock):
    client = key_client(org_a)
    assert client.get("/v1/organization").status_code == 200
    org_a.delete()
    assert client.get("/v1/organization").status_code == 401


def test_a_remembered_key_still_expires_on_time(org_a, clock):
    key, secret = ApiKey.issue(org_a, name="short", scopes=["read"], expires_at=timezone.now() + timedelta(seconds=2))
    client = key_client(org_a)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/v1/organization").status_code == 200
    time.sleep(2.1)
    assert client.get("/v1/organization").json()["error"]["message"] == "This API key has expired."


def test_last_used_is_written_once_a_minute_not_on_every_call(org_a, clock):
    client = key_client(org_a)
    for _ in range(3):
        assert client.get("/v1/organization").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get("/v1/organization")
    assert not [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "apikeys_apikey"')]
