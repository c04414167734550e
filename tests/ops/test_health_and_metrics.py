import pytest

from tests.conftest import signed_in
from tunery.ops import health


def test_healthz_reports_database_and_broker(db, client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]


def test_healthz_is_503_when_a_dependency_is_down(db, client, monkeypatch):
    def broken():
        raise ConnectionRefusedError("broker unreachable")

    monkeypatch.setitem(health.CHECKS, "broker", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {"ok": False, "error": "ConnectionRefusedError: broker unreachable"}


@pytest.mark.django_db
def test_metrics_are_prometheus_text_for_the_scraper(client, settings):
    settings.TUNERY_METRICS_TOKEN = "scrape-secret"
    client.get("/healthz")
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").content.decode()
    assert "django_http_requests_total_by_method_total" in text


def test_metrics_are_not_public(client, settings, member_a):
    settings.TUNERY_METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics").status_code == 404
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer guessed")
    assert wrong.status_code == 401 and wrong["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert signed_in(client, member_a).get("/metrics").status_code == 404  # a customer is not an operator
    settings.TUNERY_METRICS_TOKEN = ""  # no token set: no bearer gets in
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_staff_read_metrics_in_the_browser(client, member_a):
    member_a.is_staff = True
    member_a.save()
    response = signed_in(client, member_a).get("/metrics")
    assert response.status_code == 200 and b"django_http_requests" in response.content
