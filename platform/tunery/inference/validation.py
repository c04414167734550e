"""Checks on a completion request before it reaches the engine: clear 400s naming the field."""

from tunery.api.errors import ApiError

MAX_N = 8
MAX_STOP = 4

# OpenAI's request parameters. Anything else is refused as OpenAI refuses it ("Unrecognized
# request argument supplied"), so a misspelt `max_token` is not silently ignored. Parameters
# listed here that the engine cannot honour are refused by the engine, naming them.
COMMON_PARAMETERS = {
    "model", "frequency_penalty", "logit_bias", "logprobs", "max_tokens", "n", "presence_penalty", "seed", "stop",
    "stream", "stream_options", "temperature", "top_p", "user",
}  # fmt: skip
CHAT_PARAMETERS = COMMON_PARAMETERS | {
    "messages", "audio", "function_call", "functions", "max_completion_tokens", "metadata", "modalities",
    "parallel_tool_calls", "prediction", "prompt_cache_key", "reasoning_effort", "response_format",
    "safety_identifier", "service_tier", "store", "tool_choice", "tools", "top_logprobs", "verbosity",
    "web_search_options",
}  # fmt: skip
COMPLETION_PARAMETERS = COMMON_PARAMETERS | {"prompt", "best_of", "echo", "suffix"}


def _fail(param: str, message: str) -> ApiError:
    return ApiError(f"{param}: {message}", param=param, code="invalid_value")


def _number(body: dict, name: str, low: float, high: float, integer: bool = False) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        raise _fail(name, f"must be {'a whole number' if integer else 'a number'}, got {value!r}.")
    if not low <= value <= high:
        raise _fail(name, f"must be between {low} and {high}, got {value}.")


def validate(body, endpoint: str) -> dict:
    if not isinstance(body, dict):
        raise ApiError("The body must be a JSON object.", code="invalid_value")
    known = CHAT_PARAMETERS if endpoint == "chat.completions" else COMPLETION_PARAMETERS
    unknown = sorted(set(body) - known)
    if unknown:
        raise ApiError(
            f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0], code="unknown_parameter"
        )
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise ApiError("You must provide a model parameter.", param="model", code="missing_required_parameter")
    if endpoint == "chat.completions":
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _fail("messages", "must be a non-empty list of {role, content} objects.")
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in ("system", "developer", "user", "assistant"):
                raise _fail(f"messages[{index}].role", "must be system, developer, user or assistant.")
            if not isinstance(message.get("content"), (str, list)):
                raise _fail(f"messages[{index}].content", "must be a string.")
    else:
        prompt = body.get("prompt")
        if not isinstance(prompt, str) and not (
            isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt)
        ):
            raise _fail("prompt", "must be a string or a list of strings.")
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    _number(body, "max_tokens", 1, 32768, integer=True)
    _number(body, "max_completion_tokens", 1, 32768, integer=True)
    _number(body, "n", 1, MAX_N, integer=True)
    _number(body, "seed", -(2**63), 2**63 - 1, integer=True)
    _number(body, "top_logprobs", 0, 20, integer=True)
    stop = body.get("stop")
    if (
        stop is not None
        and not isinstance(stop, str)
        and not (isinstance(stop, list) and len(stop) <= MAX_STOP and all(isinstance(s, str) for s in stop))
    ):
        raise _fail("stop", f"must be a string or a list of up to {MAX_STOP} strings.")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise _fail("stream", "must be true or false.")
    options = body.get("stream_options")
    if options is not None and (
        not isinstance(options, dict) or not isinstance(options.get("include_usage", False), bool)
    ):
        raise _fail("stream_options", 'must be an object such as {"include_usage": true}.')
    return body
