"""Fields of request bodies and answers across the API (issue 18): unknown fields refused by
name, timestamps in Unix seconds, 404s in OpenAI's words."""

import time

import pytest

from tests.datasets import chat_jsonl
from tests.files.helpers import upload_and_inspect


def test_api_key_expiry_is_unix_seconds_both_ways(api_a):
    expires = int(time.time()) + 3600
    created = api_a.post(
        "/v1/organization/api_keys", {"name": "k", "scopes": ["read"], "expires_at": expires}, format="json"
    )
    assert created.status_code == 201 and created.json()["expires_at"] == expires
    assert api_a.get(f"/v1/organization/api_keys/{created.json()['id']}").json()["expires_at"] == expires


@pytest.mark.parametrize("expires_at", ["2030-01-01T00:00:00Z", 1.5e9, True])
def test_api_key_expiry_that_is_not_unix_seconds_names_the_field(api_a, expires_at):
    response = api_a.post(
        "/v1/organization/api_keys", {"name": "k", "scopes": ["read"], "expires_at": expires_at}, format="json"
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "expires_at"


@pytest.mark.parametrize(
    ("method", "path", "body", "param"),
    [
        ("post", "/v1/organization/api_keys", {"name": "k", "scopes": ["read"], "scope": "admin"}, "scope"),
        ("post", "/v1/organization/api_keys", {"name": "k", "scopes": ["read"], "id": "key-x"}, "id"),
        ("patch", "/v1/organization", {"name": "New name", "slug": "taken"}, "slug"),
        ("post", "/v1/organization/billing/top_ups", {"amount": "5.00", "currency": "eur"}, "currency"),
        ("post", "/v1/organization/billing/payment_method", {"payment_method": "pm_x", "default": True}, "default"),
        ("post", "/v1/evaluations", {"test_file": "file-x", "models": ["m"], "max_example": 5}, "max_example"),
    ],
)
def test_unknown_or_read_only_fields_are_refused_by_name(api_a, method, path, body, param):
    response = getattr(api_a, method)(path, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param and "unknown parameter" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"shuffle_seed": -5}, "shuffle_seed"),
        ({"split": {"validation_fraction": 0.2, "seed": -1}}, "split.seed"),
        ({"shuffle": True}, "shuffle"),
        ({"split": {"validation_fraction": 0.2, "fraction": 0.1}}, "split.fraction"),
    ],
)
def test_transform_refuses_what_the_worker_would_fail_on(api_a, body, param):
    source = upload_and_inspect(api_a, "train.jsonl", chat_jsonl(12))
    response = api_a.post(f"/v1/files/{source.public_id}/transform", body, format="json")
    assert response.status_code == 400 and response.json()["error"]["param"] == param


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/v1/fine_tuning/jobs/ftjob-nope", "No fine-tuning job with id 'ftjob-nope'."),
        ("/v1/files/file-nope", "No file with id 'file-nope'."),
        ("/v1/evaluations/eval-nope", "No evaluation with id 'eval-nope'."),
        ("/v1/organization/api_keys/key-nope", "No API key with id 'key-nope'."),
    ],
)
def test_404s_name_the_object_as_the_api_does(api_a, path, message):
    response = api_a.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == {
        "message": message,
        "type": "invalid_request_error",
        "param": None,
        "code": "not_found",
    }


def test_a_page_404_does_not_name_a_django_model(client, owner_a):
    client.force_login(owner_a)
    response = client.post("/settings/organization/members/mem-nope/remove")
    assert response.status_code == 404
    assert b"matches the given query" not in response.content and b"does not exist" in response.content


def test_schema_components_do_not_inherit_the_strict_base_classes_description():
    from drf_spectacular.generators import SchemaGenerator

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    assert not [name for name, c in schemas.items() if "Mixed into a serializer" in c.get("description", "")]
