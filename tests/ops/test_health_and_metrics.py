import pytest

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
def test_metrics_are_prometheus_text(client):
    client.get("/healthz")
    text = client.get("/metrics").content.decode()
    assert "django_http_requests_total_by_method_total" in text
