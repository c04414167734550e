"""Turn training examples into token ids and loss labels.

Two example shapes are accepted (the OpenAI fine-tuning formats):

- chat: ``{"messages": [{"role": "system"|"user"|"assistant", "content": str, "weight"?: 0|1}]}``,
  rendered with the tokenizer's chat template. Loss is taken on assistant turns only: the
  tokens of the assistant's text plus the end-of-turn token that follows it (so the model
  learns to stop), but not the template's role header or the newline between turns.
  An assistant message with ``weight: 0`` is context only.
- completion: ``{"prompt": str, "completion": str}``, as raw text: the prompt (with the
  tokenizer's usual special tokens), then the completion and EOS; loss on completion + EOS.

Labels are ``-100`` (ignored by the loss) wherever the model is not being taught.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from workers.ml.errors import TrainingError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

IGNORE_INDEX = -100
ROLES = {"system", "user", "assistant"}
TooLong = Literal["truncate", "skip", "error"]


@dataclass
class EncodedExample:
    input_ids: list[int]
    labels: list[int]
    line: int  # 1-based line in the source file, for messages a user can act on

    @property
    def n_trained(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE_INDEX)

    def __len__(self) -> int:
        return len(self.input_ids)


@dataclass
class EncodeReport:
    """What happened to each example, with line numbers, for job events and the UI."""

    total: int = 0
    kept: int = 0
    truncated_lines: list[int] = field(default_factory=list)
    too_long_lines: list[int] = field(default_factory=list)  # skipped because too long
    no_target_lines: list[int] = field(default_factory=list)  # skipped: nothing to learn
    longest: int = 0  # longest example before truncation
    total_tokens: int = 0  # of kept examples
    trained_tokens: int = 0  # of kept examples, i.e. tokens that carry loss

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _bad(line: int, message: str) -> TrainingError:
    return TrainingError("invalid_training_file", f"Example on line {line}: {message}", "training_file")


def _clean_messages(messages: Any, line: int) -> list[dict[str, str]]:
    if not isinstance(messages, list) or not messages:
        raise _bad(line, '"messages" must be a non-empty list.')
    cleaned = []
    for n, message in enumerate(messages, start=1):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise _bad(line, f"message {n} needs a role of system, user or assistant.")
        if not isinstance(message.get("content"), str):
            raise _bad(line, f"message {n} needs a text content.")
        # Only role and content reach the template: other keys (weight) are Tunery's.
        cleaned.append({"role": message["role"], "content": message["content"]})
    return cleaned


def render_chat(
    tokenizer: PreTrainedTokenizerBase,
    messages: Sequence[dict[str, str]],
    add_generation_prompt: bool,
    chat_template: str | None = None,
) -> str:
    """``chat_template`` overrides the tokenizer's (serving uses the one stored with an adapter)."""
    return tokenizer.apply_chat_template(
        list(messages), tokenize=False, add_generation_prompt=add_generation_prompt, chat_template=chat_template
    )


def _assistant_spans(
    tokenizer: PreTrainedTokenizerBase,
    raw: list[dict[str, Any]],
    messages: list[dict[str, str]],
    line: int,
    chat_template: str | None,
) -> tuple[str, list[tuple[int, int]]]:
    """The full rendered text and the character spans that carry loss.

    A span is what rendering turn i adds after the generation prompt for turn i, i.e. exactly
    what the model must produce when served with the same template, minus trailing whitespace
    (the template's separator between turns).
    """
    full = render_chat(tokenizer, messages, False, chat_template)
    spans = []
    for i, message in enumerate(raw):
        if message["role"] != "assistant" or message.get("weight", 1) == 0:
            continue
        if i == 0:
            raise _bad(line, "the conversation starts with an assistant message; start with system or user.")
        prompt = render_chat(tokenizer, messages[:i], True, chat_template)
        upto = render_chat(tokenizer, messages[: i + 1], False, chat_template)
        if not upto.startswith(prompt) or not full.startswith(upto):
            raise TrainingError(
                "unsupported_chat_template",
                "The chat template renders a conversation differently depending on what follows, "
                "so assistant turns cannot be located; use a template that renders turns in order.",
                "model",
            )
        end = len(upto.rstrip())
        if end > len(prompt):
            spans.append((len(prompt), end))
    return full, spans


def encode_chat(
    tokenizer: PreTrainedTokenizerBase, example: dict[str, Any], line: int = 1, chat_template: str | None = None
) -> EncodedExample:
    raw = example.get("messages")
    messages = _clean_messages(raw, line)
    assert isinstance(raw, list)
    for n, message in enumerate(raw, start=1):
        if message.get("weight", 1) not in (0, 1):
            raise _bad(line, f"message {n} has weight {message['weight']!r}; weight must be 0 or 1.")
    text, spans = _assistant_spans(tokenizer, raw, messages, line, chat_template)
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    labels = []
    for token_id, (start, end) in zip(encoding["input_ids"], encoding["offset_mapping"], strict=True):
        trained = any(start < span_end and end > span_start for span_start, span_end in spans)
        labels.append(token_id if trained else IGNORE_INDEX)
    return EncodedExample(list(encoding["input_ids"]), labels, line)


def encode_completion(tokenizer: PreTrainedTokenizerBase, example: dict[str, Any], line: int = 1) -> EncodedExample:
    prompt, completion = example.get("prompt"), example.get("completion")
    if not isinstance(prompt, str) or not isinstance(completion, str):
        raise _bad(line, '"prompt" and "completion" must both be text.')
    # Tokenised separately, as at serving time the prompt is tokenised alone.
    prompt_ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
    completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return EncodedExample(list(prompt_ids) + completion_ids, [IGNORE_INDEX] * len(prompt_ids) + completion_ids, line)


def example_format(example: Any, line: int = 1) -> Literal["chat", "completion"]:
    if isinstance(example, dict) and "messages" in example:
        return "chat"
    if isinstance(example, dict) and "prompt" in example and "completion" in example:
        return "completion"
    raise _bad(line, 'expected {"messages": [...]} or {"prompt": ..., "completion": ...}.')


def encode_example(
    tokenizer: PreTrainedTokenizerBase, example: dict[str, Any], line: int = 1, chat_template: str | None = None
) -> EncodedExample:
    """``chat_template`` overrides the tokenizer's, e.g. with the one stored with an adapter."""
    if example_format(example, line) == "chat":
        return encode_chat(tokenizer, example, line, chat_template)
    return encode_completion(tokenizer, example, line)


def encode_dataset(
    tokenizer: PreTrainedTokenizerBase,
    rows: Iterable[tuple[int, dict[str, Any]]],
    max_seq_len: int,
    on_too_long: TooLong = "truncate",
    chat_template: str | None = None,
) -> tuple[list[EncodedExample], EncodeReport]:
    """Encode every (line number, example); handle those longer than ``max_seq_len`` as ``on_too_long`` says.

    Truncation keeps the start (the prompt) and cuts the end; an example left with no trained
    token after truncation, or with none to begin with, is skipped and reported.
    """
    encoded: list[EncodedExample] = []
    report = EncodeReport()
    for line, example in rows:
        report.total += 1
        item = encode_example(tokenizer, example, line, chat_template)
        report.longest = max(report.longest, len(item))
        if len(item) > max_seq_len:
            if on_too_long == "error":
                raise _bad(
                    line,
                    f"it is {len(item)} tokens long, more than the maximum sequence length of {max_seq_len}.",
                )
            if on_too_long == "skip":
                report.too_long_lines.append(line)
                continue
            item = EncodedExample(item.input_ids[:max_seq_len], item.labels[:max_seq_len], line)
            report.truncated_lines.append(line)
        if item.n_trained == 0:
            report.no_target_lines.append(line)
            continue
        encoded.append(item)
        report.kept += 1
        report.total_tokens += len(item)
        report.trained_tokens += item.n_trained
    return encoded, report


def chat_prompt_ids(
    tokenizer: PreTrainedTokenizerBase, messages: Sequence[dict[str, Any]], chat_template: str | None = None
) -> list[int]:
    """Token ids that ask the model for the next assistant turn (used by generation)."""
    text = render_chat(tokenizer, _clean_messages(list(messages), 1), True, chat_template)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])
