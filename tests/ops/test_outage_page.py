"""Pages while the database is down: a friendly 503 with Retry-After, not Django's plain 500
(the API's 503 is in test_faults.py). Served by Tunery's ASGI app under uvicorn, as in production,
with the database really unreachable: new connections go where nothing answers."""

from contextlib import contextmanager

import httpx
import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from tests.conftest import _free_port, serve
from tunery.orgs.models import Invitation
from tunery.orgs.roles import Role


@contextmanager
def database_down():
    """Every connection opened from now on fails, as while PostgreSQL restarts: a port nothing
    listens on (PostgreSQL), or a folder that does not exist (SQLite). The connections share this
    settings dict, so uvicorn's request threads see the change."""
    database = connections.settings["default"]
    saved = {"PORT": database.get("PORT"), "NAME": database["NAME"]}
    if "postgresql" in database["ENGINE"]:
        database["PORT"] = str(_free_port())
    else:
        database["NAME"] = "/nonexistent/tunery/down.sqlite3"
    try:
        yield
    finally:
        database.update(saved)


@pytest.fixture
def site_url(transactional_db):
    from tunery.asgi import application

    with serve(application) as url:
        yield url


def _assert_outage_page(reply: httpx.Response):
    assert reply.status_code == 503, reply.text[:500]
    assert reply.headers["Retry-After"] == "5"
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "Briefly unavailable" in reply.text and "cannot reach the database" in reply.text
    assert "Server Error" not in reply.text and "Traceback" not in reply.text


def test_a_signed_in_page_is_a_503_page_while_the_database_is_down(site_url, owner_a):
    # The first query of a signed-in page is a middleware's (the session, the active organization).
    browser = Client()
    browser.force_login(owner_a)
    cookies = {settings.SESSION_COOKIE_NAME: browser.cookies[settings.SESSION_COOKIE_NAME].value}
    assert httpx.get(f"{site_url}/", cookies=cookies).status_code == 200
    with database_down():
        _assert_outage_page(httpx.get(f"{site_url}/", cookies=cookies))
    assert httpx.get(f"{site_url}/", cookies=cookies).status_code == 200  # and back, without a restart


def test_a_page_whose_view_reads_the_database_is_a_503_page_while_it_is_down(site_url, org_a, owner_a):
    invitation = Invitation.objects.create(organization=org_a, email="new@a.test", role=Role.MEMBER, invited_by=owner_a)
    with database_down():
        _assert_outage_page(httpx.get(f"{site_url}/invitations/{invitation.token}"))


def test_the_api_still_answers_its_json_503(site_url, org_a):
    from tests.conftest import key_client

    secret = key_client(org_a).secret
    with database_down():
        reply = httpx.get(f"{site_url}/v1/files", headers={"Authorization": f"Bearer {secret}"})
    assert reply.status_code == 503
    assert reply.headers["Retry-After"] == "5"
    assert reply.json()["error"]["code"] == "service_unavailable"
