"""Chat and text completion bodies the gateway refuses itself, before a byte goes to the engine
or a stream starts (issue 18): each a 400 in OpenAI's words, naming the field."""

import pytest

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize("options", [5, "yes", [], {"include_usage": "yes"}])
@pytest.mark.parametrize("stream", [True, False])
def test_stream_options_must_be_an_object(api_a, options, stream):
    response = api_a.post("/v1/chat/completions", {**CHAT, "stream": stream, "stream_options": options}, format="json")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["param"] == "stream_options"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", {**CHAT, "max_token": 5}),
        ("/v1/chat/completions", {**CHAT, "stream": True, "max_token": 5}),
        ("/v1/completions", {"model": "m", "prompt": "hi", "max_token": 5}),
        ("/v1/completions", {"model": "m", "prompt": "hi", "messages": []}),
    ],
)
def test_unknown_parameters_are_refused_as_openai_refuses_them(api_a, path, body):
    response = api_a.post(path, body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    unknown = "max_token" if "max_token" in body else "messages"
    assert error["message"] == f"Unrecognized request argument supplied: {unknown}" and error["param"] == unknown
