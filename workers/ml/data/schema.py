"""The rules for one training example, and its canonical form.

Two formats are accepted, as in OpenAI's fine-tuning API:

- chat: ``{"messages": [{"role": ..., "content": ..., "weight": 0|1}, ...]}``
- prompt/completion: ``{"prompt": ..., "completion": ...}``, trained as one user turn and one
  assistant turn so both formats go through the same chat template.

The canonical form of an example is its list of messages (role, content, and name/weight
where given); analysis, deduplication and token counting all work on it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

Format = Literal["chat", "prompt_completion"]
Messages = list[dict[str, Any]]

ROLES = ("system", "user", "assistant")
_MESSAGE_KEYS = {"role", "content", "name", "weight"}
_PROMPT_KEYS = {"prompt", "completion"}
# A final answer this short can be a class label (sentiment, category, yes/no...).
MAX_LABEL_CHARS = 64


class LineError(Exception):
    """One line breaks a rule; ``code`` is one of issues.ISSUE_CODES."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def example_format(obj: dict[str, Any]) -> Format | None:
    if "messages" in obj:
        return "chat"
    if "prompt" in obj or "completion" in obj:
        return "prompt_completion"
    return None


def parse_line(text: str) -> dict[str, Any]:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        # An error at the very end (or an open string) means the line stops mid-object.
        cut = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated")
        hint = "; the line looks cut off (truncated file?)" if cut else ""
        raise LineError("invalid_json", f"Not valid JSON at character {exc.pos + 1}: {exc.msg}{hint}.") from None
    if not isinstance(obj, dict):
        raise LineError("invalid_json", f"Each line must be a JSON object, got {type(obj).__name__}.")
    return obj


def canonical_messages(obj: dict[str, Any], expected: Format | None) -> tuple[Format, Messages]:
    """Check one example and return its format and canonical messages, or raise LineError.

    ``expected`` is the file's format (decided by its first example); a line in the other
    format is an error, because training needs one consistent shape.
    """
    found = example_format(obj)
    if found is None:
        if expected == "prompt_completion":
            raise LineError("missing_key", "Expected 'prompt' and 'completion' keys.")
        raise LineError("missing_messages", "Expected a 'messages' list (or 'prompt' and 'completion').")
    if expected is not None and found != expected:
        raise LineError(
            "mixed_formats",
            f"This line is in {found.replace('_', '/')} format but the file started in "
            f"{expected.replace('_', '/')} format; use one format for the whole file.",
        )
    messages = _chat(obj) if found == "chat" else _prompt_completion(obj)
    return found, messages


def _chat(obj: dict[str, Any]) -> Messages:
    extra = set(obj) - {"messages"}
    if extra:
        raise LineError("unrecognized_key", f"Unrecognized key {sorted(extra)[0]!r}; only 'messages' is allowed.")
    raw = obj["messages"]
    if not isinstance(raw, list) or not raw:
        raise LineError("missing_messages", "'messages' must be a non-empty list.")
    messages: Messages = []
    trainable = False
    for index, message in enumerate(raw, start=1):
        where = f"Message {index}"
        if not isinstance(message, dict):
            raise LineError("message_missing_key", f"{where} must be an object with 'role' and 'content'.")
        for key in ("role", "content"):
            if key not in message:
                raise LineError("message_missing_key", f"{where} has no {key!r}.")
        extra = set(message) - _MESSAGE_KEYS
        if extra:
            raise LineError("unrecognized_key", f"{where} has an unrecognized key {sorted(extra)[0]!r}.")
        role = message["role"]
        if role not in ROLES:
            raise LineError("unknown_role", f"{where} has role {role!r}; use system, user or assistant.")
        content = message["content"]
        _check_text(content, f"{where} ({role})")
        clean: dict[str, Any] = {"role": role, "content": content}
        if "name" in message:
            if not isinstance(message["name"], str):
                raise LineError("content_not_string", f"{where} has a 'name' that is not a string.")
            clean["name"] = message["name"]
        if "weight" in message:
            weight = message["weight"]
            if role != "assistant":
                raise LineError("invalid_weight", f"{where}: 'weight' is only allowed on assistant messages.")
            # bool is an int subclass: reject true/false explicitly.
            if isinstance(weight, bool) or weight not in (0, 1):
                raise LineError("invalid_weight", f"{where}: 'weight' must be 0 or 1, got {json.dumps(weight)}.")
            clean["weight"] = int(weight)
        if role == "assistant" and clean.get("weight", 1) == 1:
            trainable = True
        messages.append(clean)
    if not trainable:
        has_assistant = any(m["role"] == "assistant" for m in messages)
        detail = "every assistant message has weight 0" if has_assistant else "there is no assistant message"
        raise LineError("no_assistant_message", f"Nothing to learn: {detail}.")
    return messages


def _prompt_completion(obj: dict[str, Any]) -> Messages:
    extra = set(obj) - _PROMPT_KEYS
    if extra:
        raise LineError(
            "unrecognized_key", f"Unrecognized key {sorted(extra)[0]!r}; only 'prompt' and 'completion' are allowed."
        )
    for key in ("prompt", "completion"):
        if key not in obj:
            raise LineError("missing_key", f"No {key!r}.")
    prompt, completion = obj["prompt"], obj["completion"]
    # An empty prompt is legitimate (pure continuation); an empty completion teaches nothing.
    _check_text(prompt, "'prompt'", allow_empty=True)
    _check_text(completion, "'completion'")
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}]


def _check_text(value: Any, where: str, allow_empty: bool = False) -> None:
    if not isinstance(value, str):
        kind = "a list of parts" if isinstance(value, list) else json.dumps(value)[:40]
        raise LineError("content_not_string", f"{where} content must be a string, got {kind}.")
    if not allow_empty and not value.strip():
        raise LineError("empty_content", f"{where} content is empty.")
    # json.loads accepts escaped lone surrogates (\ud800) that no tokenizer can encode.
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise LineError("invalid_utf8", f"{where} content contains an unpaired surrogate escape.") from None


def example_digest(messages: Messages) -> int:
    """64-bit hash of the canonical example: equal examples collide whatever their key order
    or JSON whitespace; 8 bytes per example keeps duplicate detection small for large files.

    It hashes each message's fields (role, name, weight, content) with the strings
    length-prefixed, so no two different examples feed it the same bytes; about 4x faster than
    hashing a JSON dump of the messages."""
    digest = hashlib.blake2b(digest_size=8)
    for message in messages:
        name, content = message.get("name"), message["content"]
        name_field = "" if name is None else f"{len(name)}:{name}"
        head = f"{message['role']}\x00{name_field}\x00{message.get('weight', '')}\x00{len(content)}\x00"
        digest.update(head.encode("utf-8", "surrogatepass"))
        digest.update(content.encode("utf-8", "surrogatepass"))
    return int.from_bytes(digest.digest(), "big")


def class_label(messages: Messages) -> str | None:
    """The last assistant answer when it is short enough to be a class label, else None."""
    for message in reversed(messages):
        if message["role"] == "assistant":
            answer = message["content"].strip()
            return answer if len(answer) <= MAX_LABEL_CHARS and "\n" not in answer else None
    return None
