import pytest
from django.test import override_settings


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_oversized_json_body_gets_413(api_a):
    response = api_a.post(
        "/v1/organization/api_keys", data='{"name": "' + "x" * 5000 + '"}', content_type="application/json"
    )
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"


def test_malformed_json_gets_400(api_a):
    response = api_a.post("/v1/organization/api_keys", data="{not json", content_type="application/json")
    assert response.status_code == 400 and "could not parse the JSON" in response.json()["error"]["message"]


def test_json_that_is_not_an_object_gets_400(api_a):
    response = api_a.post("/v1/organization/api_keys", data="[1, 2]", content_type="application/json")
    assert response.status_code == 400


def test_unknown_api_url_is_a_json_404(db, client):
    response = client.get("/v1/does-not-exist")
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_url"


def test_unknown_page_is_a_friendly_404(db, client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and b"does not exist" in response.content


@pytest.mark.parametrize("limit", ["0", "abc", "1000"])
def test_bad_pagination_limit_names_the_param(api_a, limit):
    response = api_a.get("/v1/organization/api_keys", {"limit": limit})
    assert response.status_code == 400 and response.json()["error"]["param"] == "limit"


def test_cursor_pagination(api_a):
    for n in range(5):
        api_a.post("/v1/organization/api_keys", {"name": f"k{n}", "scopes": ["read"]}, format="json")
    first = api_a.get("/v1/organization/api_keys", {"limit": 4}).json()
    assert first["has_more"] and len(first["data"]) == 4
    rest = api_a.get("/v1/organization/api_keys", {"limit": 4, "after": first["last_id"]}).json()
    assert not rest["has_more"] and len(rest["data"]) == 2  # five new keys plus the client's own
    assert not {k["id"] for k in first["data"]} & {k["id"] for k in rest["data"]}
