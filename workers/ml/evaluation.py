"""Compare the base model with a fine-tuned adapter on a validation set.

Both are scored from one copy of the base model in memory (the adapter is switched off for the
base scores): loss, perplexity and token accuracy on the answer tokens the training targeted,
then one greedy answer per example and model, scored by every metric that fits the answers:
exact match always; macro F1 and a confusion matrix when the references form a small label set;
JSON validity, whole-object match and per-field accuracy when they are JSON objects; word-level
F1 and ROUGE-L when they are free text. A few side-by-side samples show what changed in words.
Everything in the report is JSON-serialisable via ``to_dict()``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from workers.ml.batching import collate, length_grouped_batches
from workers.ml.chat_format import EncodedExample, encode_dataset, example_format
from workers.ml.errors import TrainingError
from workers.ml.generation import ChatModel, GenerationSettings
from workers.ml.jsonl import read_jsonl
from workers.ml.losses import token_stats
from workers.ml.metrics import (
    classification_labels,
    confusion_matrix,
    exact_match_accuracy,
    json_references,
    json_scores,
    macro_f1,
    mean_score,
    rouge_l,
    token_f1,
)

ADAPTER = "fine_tuned"


@dataclass
class EvaluationConfig:
    adapter_dir: Path
    validation_file: Path
    max_examples: int = 200  # the first N examples, to bound evaluation time
    n_samples: int = 5
    max_new_tokens: int = 256  # at most; answers get a little more than the longest reference
    # Generated tokens per model at most (answers x budget per answer): answers are scored on
    # the first examples that fit, so long answers on a slow CPU cannot stretch a job by hours.
    max_answer_tokens: int = 4096
    batch_size: int = 8
    device: str | None = None


@dataclass
class ModelScores:
    loss: float
    perplexity: float
    token_accuracy: float
    exact_match_accuracy: float | None = None  # every kind of answer
    # classification-like answers (a small label set)
    macro_f1: float | None = None
    confusion_matrix: dict[str, Any] | None = None  # {"labels", "predicted_labels", "matrix"}
    # JSON-object answers
    json_valid_rate: float | None = None
    json_object_match: float | None = None
    json_field_accuracy: dict[str, float] | None = None
    # free-text answers
    token_f1: float | None = None
    rouge_l: float | None = None


@dataclass
class Sample:
    prompt: Any  # the messages before the answer, or the prompt text
    reference: str
    base_answer: str
    fine_tuned_answer: str


@dataclass
class EvaluationReport:
    n_examples: int
    n_answered: int  # the first examples whose greedy answers are scored
    answer_kind: Literal["labels", "json", "text"]
    classification: bool  # labels found (JSON answers can be labels too)
    labels: list[str] | None
    base: ModelScores
    fine_tuned: ModelScores
    samples: list[Sample] = field(default_factory=list)
    elapsed_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Item:
    encoded: EncodedExample
    prompt: Any
    prompt_ids: list[int]
    reference: str


def _items(chat: ChatModel, config: EvaluationConfig) -> list[_Item]:
    """Validation examples with a final answer to compare against, encoded like in training."""
    rows = read_jsonl(config.validation_file, "validation_file")[: config.max_examples]
    template = chat.adapters[ADAPTER].chat_template
    encoded, _ = encode_dataset(chat.tokenizer, rows, chat.max_seq_len(ADAPTER), "truncate", template)
    by_line = {item.line: item for item in encoded}
    items = []
    for line, example in rows:
        if line not in by_line:
            continue
        if example_format(example, line) == "completion":
            prompt, reference = example["prompt"], example["completion"]
            prompt_ids = chat.text_prompt(prompt)
        else:
            messages = example["messages"]
            if messages[-1].get("role") != "assistant":
                continue
            prompt, reference = messages[:-1], messages[-1]["content"]
            prompt_ids = chat.chat_prompt(prompt, ADAPTER)
        items.append(_Item(by_line[line], prompt, prompt_ids, reference))
    if not items:
        raise TrainingError(
            "invalid_validation_file", "The validation file has no examples ending in an answer.", "validation_file"
        )
    return items


def _token_scores(
    chat: ChatModel, adapter: str | None, items: list[_Item], batch_size: int, tick: Callable[[], None]
) -> ModelScores:
    import torch

    examples = [item.encoded for item in items]
    loss_sum, n_correct, n_tokens = 0.0, 0, 0
    with torch.inference_mode(), chat.using(adapter) as model:
        for batch in length_grouped_batches([len(e) for e in examples], batch_size, seed=0, epoch=0):
            tick()
            stats = token_stats(model, collate([examples[i] for i in batch], chat.tokenizer.pad_token_id, chat.device))
            loss_sum += float(stats.loss_sum)
            n_correct += stats.n_correct
            n_tokens += stats.n_tokens
    loss = loss_sum / n_tokens
    return ModelScores(loss=loss, perplexity=math.exp(min(loss, 700.0)), token_accuracy=n_correct / n_tokens)


def _answers(
    chat: ChatModel,
    adapter: str | None,
    items: list[_Item],
    config: EvaluationConfig,
    tick: Callable[[], None],
    max_new_tokens: int,
) -> list[str]:
    settings = GenerationSettings(max_new_tokens=max_new_tokens, temperature=0.0)
    # Similar prompt lengths per batch keep left-padding small.
    order = sorted(range(len(items)), key=lambda i: len(items[i].prompt_ids))
    answers: dict[int, str] = {}
    for start in range(0, len(order), config.batch_size):
        tick()
        chunk = order[start : start + config.batch_size]
        for i, generation in zip(
            chunk, chat.generate([items[i].prompt_ids for i in chunk], settings, adapter), strict=True
        ):
            answers[i] = generation.text
    return [answers[i] for i in range(len(items))]


def _answer_budget(chat: ChatModel, references: list[str], cap: int) -> int:
    """New tokens to generate: a little past the longest reference (enough to see an answer
    run on), as generating further only costs time and cannot turn a wrong answer right."""
    longest = max(len(ids) for ids in chat.tokenizer(references, add_special_tokens=False).input_ids)
    return min(cap, longest + 4 + longest // 8)


def _answer_scores(
    scores: ModelScores,
    references: list[str],
    answers: list[str],
    labels: list[str] | None,
    objects: list[dict[str, Any]] | None,
) -> None:
    scores.exact_match_accuracy = exact_match_accuracy(references, answers)
    if labels:
        rows, columns, matrix = confusion_matrix(references, answers, labels)
        scores.macro_f1 = macro_f1(references, answers, labels)
        scores.confusion_matrix = {"labels": rows, "predicted_labels": columns, "matrix": matrix}
    if objects:
        found = json_scores(objects, answers)
        scores.json_valid_rate = found.valid_rate
        scores.json_object_match = found.object_match
        scores.json_field_accuracy = found.field_accuracy
    elif not labels:
        scores.token_f1 = mean_score(token_f1, references, answers)
        scores.rouge_l = mean_score(rouge_l, references, answers)


def evaluate(
    config: EvaluationConfig, heartbeat: Callable[[], None] | None = None, chat: ChatModel | None = None
) -> EvaluationReport:
    """Score base vs fine-tuned on ``config.validation_file``.

    ``heartbeat`` is called between batches (proof of life for the reaper). Pass ``chat`` to
    reuse a loaded model; the adapter is then loaded into it under the name "fine_tuned".
    """
    started = time.monotonic()
    tick = heartbeat or (lambda: None)
    if chat is None:
        chat = ChatModel.for_adapter(config.adapter_dir, config.device, ADAPTER)
    elif ADAPTER not in chat.adapters:
        chat.load_adapter(config.adapter_dir, ADAPTER)
    items = _items(chat, config)
    base = _token_scores(chat, None, items, config.batch_size, tick)
    tuned = _token_scores(chat, ADAPTER, items, config.batch_size, tick)

    references = [item.reference for item in items]
    labels = classification_labels(references)
    objects = json_references(references)
    # One greedy pass per model serves every answer metric and the samples.
    max_new_tokens = _answer_budget(chat, references, config.max_new_tokens)
    n_answered = min(len(items), max(config.n_samples, config.max_answer_tokens // max_new_tokens))
    answered, references = items[:n_answered], references[:n_answered]
    answered_objects = objects[:n_answered] if objects else None
    base_answers = _answers(chat, None, answered, config, tick, max_new_tokens)
    tuned_answers = _answers(chat, ADAPTER, answered, config, tick, max_new_tokens)
    _answer_scores(base, references, base_answers, labels, answered_objects)
    _answer_scores(tuned, references, tuned_answers, labels, answered_objects)
    n = config.n_samples
    samples = [
        Sample(item.prompt, item.reference, b, t)
        for item, b, t in zip(items[:n], base_answers[:n], tuned_answers[:n], strict=True)
    ]
    return EvaluationReport(
        n_examples=len(items),
        n_answered=n_answered,
        answer_kind="json" if objects else "labels" if labels else "text",
        classification=labels is not None,
        labels=labels,
        base=base,
        fine_tuned=tuned,
        samples=samples,
        elapsed_seconds=time.monotonic() - started,
    )
