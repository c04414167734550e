"""OpenAI response objects, field for field, for chat.completions and completions.

Non-streamed answers are collected from the scheduler's choice updates; streamed ones map each
update to one chunk. ``token_text`` turns a token id into its text (for logprobs).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from workers.engine.scheduler import ChoiceUpdate, TokenLogprob

Kind = Literal["chat", "completion"]
TokenText = Callable[[int], str]


@dataclass
class Envelope:
    """What every object and chunk of one response shares."""

    kind: Kind
    model: str
    id: str = ""
    created: int = field(default_factory=lambda: int(time.time()))

    def __post_init__(self) -> None:
        self.id = self.id or ("chatcmpl-" if self.kind == "chat" else "cmpl-") + uuid.uuid4().hex

    def head(self, chunk: bool) -> dict[str, Any]:
        if self.kind == "chat":
            obj = "chat.completion.chunk" if chunk else "chat.completion"
        else:
            obj = "text_completion"
        return {"id": self.id, "object": obj, "created": self.created, "model": self.model}


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _chat_token(token_id: int, logprob: float, token_text: TokenText) -> dict[str, Any]:
    text = token_text(token_id)
    return {"token": text, "logprob": logprob, "bytes": list(text.encode())}


def chat_logprobs(tokens: list[TokenLogprob], token_text: TokenText) -> dict[str, Any]:
    content = [
        {
            **_chat_token(t.token_id, t.logprob, token_text),
            "top_logprobs": [_chat_token(i, lp, token_text) for i, lp in t.top],
        }
        for t in tokens
    ]
    return {"content": content, "refusal": None}


def completion_logprobs(tokens: list[TokenLogprob], token_text: TokenText) -> dict[str, Any]:
    return {
        "tokens": [token_text(t.token_id) for t in tokens],
        "token_logprobs": [t.logprob for t in tokens],
        "top_logprobs": [{token_text(i): lp for i, lp in t.top} for t in tokens],
        "text_offset": [t.offset for t in tokens],
    }


@dataclass
class _Choice:
    text: list[str] = field(default_factory=list)
    logprobs: list[TokenLogprob] = field(default_factory=list)
    finish_reason: str | None = None
    completion_tokens: int = 0


class Collector:
    """Accumulates updates into a complete (non-streamed) response."""

    def __init__(self, envelope: Envelope, choices: int, logprobs: bool, token_text: TokenText) -> None:
        self.envelope = envelope
        self.logprobs = logprobs
        self.token_text = token_text
        self.choices = [_Choice() for _ in range(choices)]

    def add(self, updates: list[ChoiceUpdate]) -> None:
        for update in updates:
            choice = self.choices[update.index]
            choice.text.append(update.text)
            choice.logprobs.extend(update.logprobs)
            if update.finish_reason:
                choice.finish_reason = update.finish_reason
                choice.completion_tokens = update.completion_tokens

    def response(self, prompt_tokens: int) -> dict[str, Any]:
        choices = []
        for index, choice in enumerate(self.choices):
            text = "".join(choice.text)
            if self.envelope.kind == "chat":
                logprobs = chat_logprobs(choice.logprobs, self.token_text) if self.logprobs else None
                body: dict[str, Any] = {"message": {"role": "assistant", "content": text, "refusal": None}}
            else:
                logprobs = completion_logprobs(choice.logprobs, self.token_text) if self.logprobs else None
                body = {"text": text}
            choices.append({"index": index, **body, "logprobs": logprobs, "finish_reason": choice.finish_reason})
        completion_tokens = sum(c.completion_tokens for c in self.choices)
        return {**self.envelope.head(chunk=False), "choices": choices, "usage": usage(prompt_tokens, completion_tokens)}


class Chunker:
    """Turns updates into Server-Sent Events, ending with ``data: [DONE]``."""

    def __init__(
        self,
        envelope: Envelope,
        choices: int,
        logprobs: bool,
        include_usage: bool,
        token_text: TokenText,
        prompt_tokens: int = 0,
        continuous_usage: bool = False,
    ) -> None:
        self.envelope = envelope
        self.choices = choices
        self.logprobs = logprobs
        self.include_usage = include_usage
        self.token_text = token_text
        self.completion_tokens = 0
        self.prompt_tokens = prompt_tokens
        self.continuous_usage = continuous_usage
        self.generated: dict[int, int] = {}  # per choice, tokens generated so far

    def _event(self, choices: list[dict[str, Any]], usage_value: dict[str, int] | None = None) -> str:
        chunk = {**self.envelope.head(chunk=True), "choices": choices}
        if self.continuous_usage and usage_value is None:
            # vLLM's continuous_usage_stats: what was used so far, so a stream cut short is still metered.
            usage_value = usage(self.prompt_tokens, sum(self.generated.values()))
        if self.include_usage or self.continuous_usage:
            chunk["usage"] = usage_value  # otherwise null on every chunk but the last, as OpenAI sends it
        return f"data: {json.dumps(chunk)}\n\n"

    def start(self) -> str:
        """Chat streams open each choice with the assistant role, before any text."""
        if self.envelope.kind != "chat":
            return ""
        return "".join(
            self._event(
                [{"index": i, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}]
            )
            for i in range(self.choices)
        )

    def updates(self, updates: list[ChoiceUpdate]) -> str:
        events = []
        for update in updates:
            self.completion_tokens += update.completion_tokens
            self.generated[update.index] = update.generated
            if self.envelope.kind == "chat":
                logprobs = chat_logprobs(update.logprobs, self.token_text) if self.logprobs else None
                body: dict[str, Any] = {"delta": {"content": update.text} if update.text else {}}
            else:
                logprobs = completion_logprobs(update.logprobs, self.token_text) if self.logprobs else None
                body = {"text": update.text}
            events.append(
                self._event(
                    [{"index": update.index, **body, "logprobs": logprobs, "finish_reason": update.finish_reason}]
                )
            )
        return "".join(events)

    def end(self, prompt_tokens: int) -> str:
        tail = ""
        if self.include_usage:
            tail = self._event([], usage(prompt_tokens, self.completion_tokens))
        return tail + "data: [DONE]\n\n"
