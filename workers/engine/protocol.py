"""Parse and validate OpenAI request bodies into plain dataclasses.

Validation is explicit (not a schema library) so every refusal names the offending
parameter in ``error.param``, as OpenAI does. Sampling fields left out stay None here: their
defaults come from the adapter's manifest (the settings it was trained for), see engine.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workers.engine.errors import bad_request

MAX_N = 16
MAX_TOP_LOGPROBS = 20
MAX_STOP_STRINGS = 16
CHAT_ROLES = {"system", "user", "assistant"}


@dataclass
class SamplingRequest:
    """What the client asked for; None means "use the model's default"."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    n: int = 1
    logprobs: bool = False
    top_logprobs: int = 0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0


@dataclass
class StreamRequest:
    stream: bool = False
    include_usage: bool = False
    continuous_usage: bool = False  # vLLM's `continuous_usage_stats`: usage so far on every chunk


@dataclass
class ChatRequest:
    model: str
    messages: list[dict[str, str]]
    sampling: SamplingRequest
    stream: StreamRequest


@dataclass
class CompletionRequest:
    model: str
    prompts: list[str | list[int]]  # one choice group per prompt, as OpenAI's batch prompts
    sampling: SamplingRequest
    stream: StreamRequest


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise bad_request(f"`{name}` must be a number between {low:g} and {high:g}.", name)
    return float(value)


def _integer(body: dict[str, Any], name: str, low: int, high: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise bad_request(f"`{name}` must be an integer {bound}.", name)
    return value


def _boolean(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad_request(f"`{name}` must be true or false.", name)
    return value


def _model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("`model` is required and must be a string.", "model")
    return model


def _stop(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    stops = [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops) or len(stops) > MAX_STOP_STRINGS:
        raise bad_request(f"`stop` must be a string or a list of at most {MAX_STOP_STRINGS} strings.", "stop")
    return [s for s in stops if s]


def _refuse_unsupported(body: dict[str, Any]) -> None:
    """Fail loudly rather than silently ignore a parameter that would change the answer."""
    for name in ("tools", "functions", "logit_bias"):
        if body.get(name):
            raise bad_request(f"`{name}` is not supported by this engine.", name)
    if body.get("tool_choice") not in (None, "none"):
        raise bad_request("`tool_choice` is not supported by this engine.", "tool_choice")
    response_format = body.get("response_format")
    if response_format is not None and (not isinstance(response_format, dict) or response_format.get("type") != "text"):
        raise bad_request('Only `response_format` {"type": "text"} is supported.', "response_format")
    if body.get("echo"):
        raise bad_request("`echo` is not supported by this engine.", "echo")
    if body.get("suffix"):
        raise bad_request("`suffix` is not supported by this engine.", "suffix")
    best_of = body.get("best_of")
    if best_of is not None and best_of != body.get("n", 1):
        raise bad_request("`best_of` is not supported by this engine (leave it out or equal to `n`).", "best_of")


def _stream(body: dict[str, Any]) -> StreamRequest:
    stream = _boolean(body, "stream")
    options = body.get("stream_options")
    if options is None:
        return StreamRequest(stream, False)
    if not stream:
        raise bad_request("`stream_options` is only allowed when `stream` is true.", "stream_options")
    if not isinstance(options, dict):
        raise bad_request("`stream_options` must be an object.", "stream_options")
    return StreamRequest(stream, _boolean(options, "include_usage"), _boolean(options, "continuous_usage_stats"))


def _sampling(body: dict[str, Any], logprobs: bool, top_logprobs: int) -> SamplingRequest:
    max_tokens = _integer(body, "max_completion_tokens", 1)
    if max_tokens is None:
        max_tokens = _integer(body, "max_tokens", 1)
    n = _integer(body, "n", 1, MAX_N)
    return SamplingRequest(
        max_tokens=max_tokens,
        temperature=_number(body, "temperature", 0.0, 2.0),
        top_p=_number(body, "top_p", 0.0, 1.0),
        stop=_stop(body),
        seed=_integer(body, "seed", -(2**63)),
        n=n if n is not None else 1,
        logprobs=logprobs,
        top_logprobs=top_logprobs,
        presence_penalty=_number(body, "presence_penalty", -2.0, 2.0) or 0.0,
        frequency_penalty=_number(body, "frequency_penalty", -2.0, 2.0) or 0.0,
    )


def _message_text(content: Any, index: int) -> str:
    """Text of a message; content parts are joined (only text parts: the models are text-only)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise bad_request(
                    f"Message {index}: only text content parts are supported.", f"messages.[{index}].content"
                )
            texts.append(part["text"])
        return "".join(texts)
    raise bad_request(
        f"Message {index}: `content` must be a string or a list of text parts.", f"messages.[{index}].content"
    )


def _messages(body: dict[str, Any]) -> list[dict[str, str]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("`messages` must be a non-empty list.", "messages")
    cleaned = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise bad_request(f"Message {index} must be an object.", f"messages.[{index}]")
        # "developer" is OpenAI's newer name for the system role.
        role = "system" if message.get("role") == "developer" else message.get("role")
        if role not in CHAT_ROLES:
            raise bad_request(
                f"Message {index}: role must be system, developer, user or assistant.", f"messages.[{index}].role"
            )
        cleaned.append({"role": role, "content": _message_text(message.get("content"), index)})
    return cleaned


def parse_chat(body: Any) -> ChatRequest:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    _refuse_unsupported(body)
    logprobs = _boolean(body, "logprobs")
    top_logprobs = _integer(body, "top_logprobs", 0, MAX_TOP_LOGPROBS) or 0
    if top_logprobs and not logprobs:
        raise bad_request("`top_logprobs` requires `logprobs` to be true.", "top_logprobs")
    return ChatRequest(_model(body), _messages(body), _sampling(body, logprobs, top_logprobs), _stream(body))


def _is_token_ids(value: Any) -> bool:
    return (
        isinstance(value, list) and bool(value) and all(isinstance(t, int) and not isinstance(t, bool) for t in value)
    )


def _prompts(body: dict[str, Any]) -> list[str | list[int]]:
    prompt = body.get("prompt")
    if isinstance(prompt, str) or _is_token_ids(prompt):
        return [prompt]
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) or _is_token_ids(p) for p in prompt):
        return list(prompt)
    raise bad_request("`prompt` must be a string, a list of strings, or token ids.", "prompt")


def parse_completion(body: Any) -> CompletionRequest:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    _refuse_unsupported(body)
    # Completions' ``logprobs`` is the number of alternatives per token (0 = only the chosen one).
    logprobs = _integer(body, "logprobs", 0, MAX_TOP_LOGPROBS)
    sampling = _sampling(body, logprobs is not None, logprobs or 0)
    return CompletionRequest(_model(body), _prompts(body), sampling, _stream(body))


def parse_load_adapter(body: Any) -> tuple[str, str]:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    name, path = body.get("lora_name"), body.get("lora_path")
    if not isinstance(name, str) or not name:
        raise bad_request("`lora_name` is required and must be a string.", "lora_name")
    if not isinstance(path, str) or not path:
        raise bad_request("`lora_path` is required and must be a string.", "lora_path")
    return name, path


def parse_unload_adapter(body: Any) -> str:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    name = body.get("lora_name")
    if not isinstance(name, str) or not name:
        raise bad_request("`lora_name` is required and must be a string.", "lora_name")
    return name
