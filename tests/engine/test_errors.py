"""Errors a client can act on: OpenAI's body and status, never a traceback."""

from __future__ import annotations

import openai
import pytest

QUESTION = [{"role": "user", "content": "Hi"}]


def test_unknown_model_is_a_404_with_openais_body(http):
    response = http.post("/chat/completions", json={"model": "ft:tiny:acme:gone:x1", "messages": QUESTION})
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": "The model `ft:tiny:acme:gone:x1` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }


def test_the_client_raises_not_found_for_an_unknown_adapter(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.completions.create(model="nope", prompt="Hi")
    assert caught.value.code == "model_not_found"


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"temperature": 5}, "temperature"),
        ({"top_p": -1}, "top_p"),
        ({"n": 0}, "n"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"stop": [1, 2]}, "stop"),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "Hi"}]}, "messages.[0].role"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
        ({"max_tokens": 10_000}, "max_tokens"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(client, options, param):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(**({"model": "tiny", "messages": QUESTION} | options))
    assert caught.value.param == param


def test_a_request_past_the_context_length_says_so(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="tiny", messages=QUESTION, max_tokens=10_000)
    assert caught.value.code == "context_length_exceeded" and "maximum context length is 2048" in caught.value.message


def test_invalid_json_and_unknown_routes_answer_in_the_same_shape(http):
    response = http.post("/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request_error"
    missing = http.get("/nowhere")
    assert missing.status_code == 404 and "error" in missing.json()
