"""Bodies and requests that once crashed the API (issue 18): each must be a clear 4xx naming
what is wrong, never a 500."""

import pytest


def post_raw(client, path: str, body: str):
    return client.post(path, data=body, content_type="application/json")


@pytest.mark.parametrize("depth", [65, 100_000])
def test_deeply_nested_json_is_a_400(api_a, depth):
    response = post_raw(api_a, "/v1/organization/api_keys", "[" * depth + "]" * depth)
    assert response.status_code == 400
    assert response.json()["error"]["message"].endswith("nested more than 64 levels deep.")


def test_nesting_inside_a_field_names_the_field(api_a):
    response = post_raw(api_a, "/v1/fine_tuning/jobs/estimate", '{"metadata": {"a": ' + "[" * 70 + "]" * 70 + "}}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"].startswith("metadata.a[0]") and "nested more than 64 levels" in error["message"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_a_400_naming_the_field(api_a, literal):
    body = '{"model": "m", "messages": [{"role": "user", "content": "hi"}], "presence_penalty": ' + literal + "}"
    response = post_raw(api_a, "/v1/chat/completions", body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "presence_penalty" and "finite number" in error["message"]


def test_a_stream_with_a_bad_number_is_refused_before_any_event(api_a):
    body = '{"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}], "top_k": NaN}'
    response = post_raw(api_a, "/v1/chat/completions", body)
    assert response.status_code == 400 and response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        (
            "/v1/chat/completions",
            '{"model": "m", "messages": [{"role": "user", "content": "a\\ud800"}]}',
            "messages[0].content",
        ),
        ("/v1/fine_tuning/jobs/estimate", '{"model": "\\udfff", "training_file": "file-x"}', "model"),
        ("/v1/organization/api_keys", '{"name": "k", "scopes": ["read"], "\\ud83d": 1}', None),
    ],
)
def test_lone_surrogates_are_a_400(api_a, path, body, param):
    response = post_raw(api_a, path, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param and "unpaired surrogate" in error["message"]


def test_a_surrogate_pair_is_an_ordinary_character(api_a):
    response = post_raw(api_a, "/v1/organization/api_keys", '{"name": "k \\ud83d\\ude42", "scopes": ["read"]}')
    assert response.status_code == 201 and response.json()["name"] == "k 🙂"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/organization",
        "/v1/organization/usage",
        "/v1/organization/billing",
        "/v1/organization/billing/top_ups",
        "/v1/files",
        "/v1/fine_tuning/jobs",
        "/v1/fine_tuning/jobs/estimate",
        "/v1/fine_tuning/jobs/ftjob-x/events",
        "/v1/evaluations",
        "/v1/chat/completions",
        "/v1/models",
    ],
)
def test_options_describes_every_api_route(api_a, path):
    response = api_a.options(path)
    assert response.status_code == 200 and response.json()["schema"] == "/api/schema"


def test_api_docs_open_with_an_api_key(api_a):
    assert api_a.get("/api/docs").status_code == 200
    assert api_a.get("/api/schema").status_code == 200


def test_api_docs_open_signed_in(client, owner_a):
    client.force_login(owner_a)
    assert client.get("/api/docs").status_code == 200
