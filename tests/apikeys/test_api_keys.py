from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import key_client
from tunery.apikeys.models import ApiKey


def test_create_list_retrieve_and_revoke_by_api(api_a, org_a):
    created = api_a.post("/v1/organization/api_keys", {"name": "deploy", "scopes": ["inference"]}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["value"].startswith("tun_") and body["redacted_value"].endswith(body["value"][-4:])
    listed = api_a.get("/v1/organization/api_keys").json()
    assert body["id"] in [k["id"] for k in listed["data"]] and all("value" not in k for k in listed["data"])
    assert api_a.get(f"/v1/organization/api_keys/{body['id']}").json()["status"] == "active"
    assert api_a.delete(f"/v1/organization/api_keys/{body['id']}").json()["deleted"] is True

    revoked = APIClient()
    revoked.credentials(HTTP_AUTHORIZATION=f"Bearer {body['value']}")
    response = revoked.get("/v1/organization")
    assert response.status_code == 401
    assert response.json()["error"] == {
        "message": "This API key has been revoked.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }


def test_expired_key_gets_401(org_a):
    client = key_client(org_a)
    ApiKey.objects.filter(organization=org_a).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/v1/organization")
    assert response.status_code == 401 and response.json()["error"]["message"] == "This API key has expired."


@pytest.mark.parametrize(
    "header", ["tun_abc", "Bearer", "Bearer a b", "Basic dXNlcjpwYXNz", "Bearer sk-123", "Bearer tun_unknown"]
)
def test_malformed_or_unknown_authorization_gets_401(db, header):
    response = APIClient().get("/v1/organization", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_no_credentials_gets_401(db):
    response = APIClient().get("/v1/organization")
    assert response.status_code == 401 and response.json()["error"]["type"] == "invalid_request_error"


def test_a_key_without_the_admin_scope_cannot_manage_keys(org_a):
    client = key_client(org_a, scopes=["read", "fine-tune", "inference"])
    response = client.post("/v1/organization/api_keys", {"name": "x", "scopes": ["read"]}, format="json")
    assert response.status_code == 403 and "`admin` scope" in response.json()["error"]["message"]


def test_unknown_scope_names_the_field(api_a):
    response = api_a.post("/v1/organization/api_keys", {"name": "x", "scopes": ["everything"]}, format="json")
    assert response.status_code == 400 and response.json()["error"]["param"].startswith("scopes")


def test_last_used_time_is_recorded(api_a, org_a):
    api_a.get("/v1/organization")
    assert ApiKey.objects.get(organization=org_a, name="test").last_used_at is not None


def test_outsider_gets_404_for_another_organizations_key(api_b, org_a):
    key, _ = ApiKey.issue(org_a, name="k", scopes=["read"])
    assert api_b.get(f"/v1/organization/api_keys/{key.public_id}").status_code == 404
    response = api_b.delete(f"/v1/organization/api_keys/{key.public_id}")
    assert response.status_code == 404 and response.json()["error"]["type"] == "invalid_request_error"
    key.refresh_from_db()
    assert key.status == "active"
