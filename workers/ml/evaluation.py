"""Score a set of models of one base on a file of examples, side by side.

``evaluate_models`` loads the base model once and any number of LoRA adapters into it (the
base is scored with the adapters switched off). Per model: loss, perplexity and token accuracy
on the answer tokens training targets, then one greedy answer per example, scored by every
metric that fits the answers: exact match always; macro F1 and a confusion matrix when the
references form a small label set; JSON validity, whole-object match and per-field accuracy
when they are JSON objects; word-level F1 and ROUGE-L when they are free text. Each answer is
kept, marked right or wrong, with the prompt and completion tokens it used (what a run costs).
For label answers, a confidence from log-probabilities: the probability of every label's
tokens after the prompt, normalised over the label set.

``evaluate`` is the job's base-vs-fine-tuned report on its validation set, built on it, with
a few side-by-side samples. Every report is JSON-serialisable via ``to_dict()``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from workers.ml.answer_probe import AnswerScore, answer_score, last_trained_span
from workers.ml.base_models import BaseModelSpec
from workers.ml.batching import collate, length_grouped_batches
from workers.ml.chat_format import EncodedExample, encode_dataset, example_format
from workers.ml.errors import TrainingError
from workers.ml.generation import ChatModel, GenerationSettings
from workers.ml.jsonl import read_jsonl
from workers.ml.losses import output_logits, token_stats
from workers.ml.manifest import read_manifest
from workers.ml.metrics import (
    answer_correct,
    classification_labels,
    confusion_matrix,
    exact_match_accuracy,
    json_references,
    json_scores,
    macro_f1,
    mean_score,
    normalize_answer,
    rouge_l,
    token_f1,
)

BASE = "base"
ADAPTER = "fine_tuned"


@dataclass
class ModelSetConfig:
    examples_file: Path
    file_param: str = "test_file"  # the request field errors about the file name
    max_examples: int = 200  # the first N examples, to bound evaluation time
    max_new_tokens: int = 256  # at most; answers get a little more than the longest reference
    # Generated tokens per model at most (answers x budget per answer): answers are scored on
    # the first examples that fit, but never fewer than `min_answered`. None answers them all.
    max_answer_tokens: int | None = None
    min_answered: int = 0
    label_confidence: bool = True  # score every label's log-probability (label answers only)
    batch_size: int = 8
    device: str | None = None


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
class Answer:
    """One model's greedy answer to one example."""

    index: int  # position among the examples evaluated
    line: int  # line in the file
    prompt: Any  # the messages before the answer, or the prompt text
    reference: str
    answer: str
    correct: bool  # metrics.answer_correct
    # Label answers: each label's probability given the prompt, the likeliest label and its probability.
    label_probabilities: dict[str, float] | None = None
    top_label: str | None = None
    confidence: float | None = None


@dataclass
class LabelConfidence:
    mean_confidence: float  # mean probability of each example's likeliest label
    top_label_accuracy: float  # how often the likeliest label is the reference
    mean_reference_probability: float  # mean probability given to the right label


@dataclass
class ModelResult:
    scores: ModelScores
    answer_score: AnswerScore  # the one number its answers are judged by (as in training)
    prompt_tokens: int  # read to answer (what an inference run of these answers is billed)
    completion_tokens: int  # generated
    seconds: float
    answers: list[Answer] = field(default_factory=list)
    confidence: LabelConfidence | None = None

    @property
    def wrong(self) -> list[Answer]:
        return [answer for answer in self.answers if not answer.correct]


@dataclass
class _Examples:
    """What both reports start with: the examples and the kind of answers they have."""

    n_examples: int
    n_answered: int  # the first examples whose greedy answers are scored
    answer_kind: Literal["labels", "json", "text"]
    classification: bool  # labels found (JSON answers can be labels too)
    labels: list[str] | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ModelSetReport(_Examples):
    models: dict[str, ModelResult]  # in the order given
    elapsed_seconds: float = 0.0


@dataclass
class Sample:
    prompt: Any  # the messages before the answer, or the prompt text
    reference: str
    base_answer: str
    fine_tuned_answer: str


@dataclass
class EvaluationReport(_Examples):
    base: ModelScores
    fine_tuned: ModelScores
    samples: list[Sample] = field(default_factory=list)
    elapsed_seconds: float = 0.0


class EvaluationStopped(Exception):
    """``should_stop`` said stop: raised between batches, with the tokens used until then."""

    def __init__(self, prompt_tokens: int, completion_tokens: int) -> None:
        super().__init__("evaluation stopped")
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens


@dataclass
class _Item:
    encoded: EncodedExample
    line: int
    prompt: Any
    prompt_ids: list[int]
    reference: str


def _items(chat: ChatModel, config: ModelSetConfig, adapter: str | None) -> list[_Item]:
    """Examples with a final answer to compare against, encoded like in training, with the
    prompt rendered by ``adapter``'s chat template (adapters of one base share it)."""
    rows = read_jsonl(config.examples_file, config.file_param)[: config.max_examples]
    template = chat.adapters[adapter].chat_template if adapter else None
    encoded, _ = encode_dataset(chat.tokenizer, rows, chat.max_seq_len(adapter), "truncate", template)
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
            prompt_ids = chat.chat_prompt(prompt, adapter)
        items.append(_Item(by_line[line], line, prompt, prompt_ids, reference))
    if not items:
        what = config.file_param.replace("_", " ")
        raise TrainingError(
            f"invalid_{config.file_param}", f"The {what} has no examples ending in an answer.", config.file_param
        )
    return items


class _Progress:
    """Counts batches done; between batches: stop if asked, prove life, report the fraction."""

    def __init__(
        self,
        total: int,
        heartbeat: Callable[[], None] | None,
        progress: Callable[[float], None] | None,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        self.total, self.done = max(total, 1), 0
        self.heartbeat, self.progress, self.should_stop = heartbeat, progress, should_stop
        self.prompt_tokens = self.completion_tokens = 0

    def __call__(self) -> None:
        if self.should_stop and self.should_stop():
            raise EvaluationStopped(self.prompt_tokens, self.completion_tokens)
        if self.heartbeat:
            self.heartbeat()
        if self.progress:
            self.progress(self.done / self.total)
        self.done += 1


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
    batch_size: int,
    max_new_tokens: int,
    tracker: _Progress,
) -> list[str]:
    settings = GenerationSettings(max_new_tokens=max_new_tokens, temperature=0.0)
    # Similar prompt lengths per batch keep left-padding small.
    order = sorted(range(len(items)), key=lambda i: len(items[i].prompt_ids))
    answers: dict[int, str] = {}
    for start in range(0, len(order), batch_size):
        tracker()
        chunk = order[start : start + batch_size]
        for i, generation in zip(
            chunk, chat.generate([items[i].prompt_ids for i in chunk], settings, adapter), strict=True
        ):
            answers[i] = generation.text
            tracker.prompt_tokens += generation.prompt_tokens
            tracker.completion_tokens += generation.completion_tokens
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


def _label_tokens(tokenizer, items: list[_Item], labels: list[str]) -> list[list[int]] | None:
    """Each label's answer tokens exactly as training encodes them (end-of-turn token included,
    so a label that is the start of another does not take its probability): the last trained
    span of the first example answered with that label. None if a label has no such span."""
    sequences: dict[str, list[int]] = {}
    for item in items:
        label = normalize_answer(item.reference)
        if label in sequences:
            continue
        span = last_trained_span(item.encoded)
        tokens = item.encoded.labels[span] if span else []
        if tokens and normalize_answer(tokenizer.decode(tokens, skip_special_tokens=True)) == label:
            sequences[label] = tokens
    return [sequences[label] for label in labels] if all(label in sequences for label in labels) else None


def _label_log_probs(
    chat: ChatModel,
    adapter: str | None,
    prompts: list[list[int]],
    sequences: list[list[int]],
    batch_size: int,
    tick: Callable[[], None],
) -> list[list[float]]:
    """log P(label tokens | prompt), summed over the label's tokens: [prompt][label]."""
    import torch

    pairs = [(i, j) for i in range(len(prompts)) for j in range(len(sequences))]
    scores = [[0.0] * len(sequences) for _ in prompts]
    pad = chat.tokenizer.pad_token_id
    with torch.inference_mode(), chat.using(adapter) as model:
        for start in range(0, len(pairs), batch_size):
            tick()
            chunk = pairs[start : start + batch_size]
            rows = [prompts[i] + sequences[j] for i, j in chunk]
            width = max(len(row) for row in rows)
            # Right padding: every row's positions start at 0, and padding after a row cannot
            # change it under causal attention.
            ids = torch.tensor([row + [pad] * (width - len(row)) for row in rows], device=chat.device)
            mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in rows], device=chat.device)
            hidden = model.get_decoder()(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
            owner, position, target = [], [], []
            for r, (i, j) in enumerate(chunk):
                for k, token in enumerate(sequences[j]):
                    owner.append(r)
                    position.append(len(prompts[i]) - 1 + k)  # the position that predicts token k
                    target.append(token)
            logits = output_logits(model, hidden[owner, position])
            rows_of = torch.arange(len(target), device=logits.device)
            picked = torch.log_softmax(logits, dim=-1)[rows_of, torch.tensor(target, device=logits.device)]
            sums = torch.zeros(len(chunk), dtype=picked.dtype).index_add_(0, torch.tensor(owner), picked.cpu())
            for r, (i, j) in enumerate(chunk):
                scores[i][j] = float(sums[r])
    return scores


def _confidence(answers: list[Answer], labels: list[str], log_probs: list[list[float]]) -> LabelConfidence:
    """Softmax of the label log-probabilities per example, written onto each answer."""
    for answer, row in zip(answers, log_probs, strict=True):
        peak = max(row)
        weights = [math.exp(value - peak) for value in row]
        total = sum(weights)
        answer.label_probabilities = {label: w / total for label, w in zip(labels, weights, strict=True)}
        answer.top_label = max(answer.label_probabilities, key=answer.label_probabilities.__getitem__)
        answer.confidence = answer.label_probabilities[answer.top_label]
    n = len(answers)
    return LabelConfidence(
        mean_confidence=sum(a.confidence for a in answers) / n,
        top_label_accuracy=sum(a.top_label == normalize_answer(a.reference) for a in answers) / n,
        mean_reference_probability=sum(a.label_probabilities[normalize_answer(a.reference)] for a in answers) / n,
    )


def _chat_for(models: Mapping[str, Path | None], spec: BaseModelSpec | None, device: str | None) -> ChatModel:
    if spec is None:
        adapter_dir = next((path for path in models.values() if path is not None), None)
        if adapter_dir is None:
            raise ValueError("give the base model's spec when no adapter is evaluated")
        spec = BaseModelSpec.from_dict(read_manifest(adapter_dir)["base_model_spec"])
    return ChatModel(spec, device)


def evaluate_models(
    config: ModelSetConfig,
    models: Mapping[str, Path | None],
    *,
    spec: BaseModelSpec | None = None,
    chat: ChatModel | None = None,
    heartbeat: Callable[[], None] | None = None,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ModelSetReport:
    """Score every model of ``models`` (a name: letters, digits and underscores → an adapter
    folder of one base model, or None for the base model itself) on ``config.examples_file``.

    The base model comes from ``chat`` (adapters missing from it are loaded under their
    names), else from ``spec``, else from the first adapter's manifest. Between batches:
    ``should_stop()`` (True raises EvaluationStopped), ``heartbeat()``, ``progress(fraction)``.
    """
    started = time.monotonic()
    if chat is None:
        chat = _chat_for(models, spec, config.device)
    for name, adapter_dir in models.items():
        if adapter_dir is not None and name not in chat.adapters:
            chat.load_adapter(adapter_dir, name)
    adapters = {name: (name if adapter_dir is not None else None) for name, adapter_dir in models.items()}
    items = _items(chat, config, next((a for a in adapters.values() if a), None))
    references = [item.reference for item in items]
    labels = classification_labels(references)
    objects = json_references(references)
    # One greedy pass per model serves every answer metric.
    max_new_tokens = _answer_budget(chat, references, config.max_new_tokens)
    n_answered = len(items)
    if config.max_answer_tokens is not None:
        n_answered = min(n_answered, max(config.min_answered, config.max_answer_tokens // max_new_tokens))
    answered = items[:n_answered]
    scored = labels and config.label_confidence and answered
    label_tokens = _label_tokens(chat.tokenizer, items, labels) if scored else None

    def batches(n: int) -> int:
        return -(-n // config.batch_size)

    per_model = batches(len(items)) + batches(n_answered)
    if label_tokens:
        per_model += batches(n_answered * len(label_tokens))
    tracker = _Progress(per_model * len(models), heartbeat, progress, should_stop)

    results: dict[str, ModelResult] = {}
    for name, adapter in adapters.items():
        model_started = time.monotonic()
        prompt_before, completion_before = tracker.prompt_tokens, tracker.completion_tokens
        scores = _token_scores(chat, adapter, items, config.batch_size, tracker)
        texts = _answers(chat, adapter, answered, config.batch_size, max_new_tokens, tracker)
        _answer_scores(scores, references[:n_answered], texts, labels, objects[:n_answered] if objects else None)
        answers = [
            Answer(i, item.line, item.prompt, item.reference, text, answer_correct(item.reference, text))
            for i, (item, text) in enumerate(zip(answered, texts, strict=True))
        ]
        confidence = None
        if label_tokens:
            log_probs = _label_log_probs(
                chat, adapter, [item.prompt_ids for item in answered], label_tokens, config.batch_size, tracker
            )
            confidence = _confidence(answers, labels, log_probs)
        results[name] = ModelResult(
            scores=scores,
            answer_score=answer_score(references[:n_answered], texts),
            prompt_tokens=tracker.prompt_tokens - prompt_before,
            completion_tokens=tracker.completion_tokens - completion_before,
            seconds=time.monotonic() - model_started,
            answers=answers,
            confidence=confidence,
        )
    if progress:
        progress(1.0)
    return ModelSetReport(
        n_examples=len(items),
        n_answered=n_answered,
        answer_kind="json" if objects else "labels" if labels else "text",
        classification=labels is not None,
        labels=labels,
        models=results,
        elapsed_seconds=time.monotonic() - started,
    )


def evaluate(
    config: EvaluationConfig, heartbeat: Callable[[], None] | None = None, chat: ChatModel | None = None
) -> EvaluationReport:
    """Score base vs fine-tuned on ``config.validation_file``.

    ``heartbeat`` is called between batches (proof of life for the reaper). Pass ``chat`` to
    reuse a loaded model; the adapter is then loaded into it under the name "fine_tuned".
    """
    report = evaluate_models(
        ModelSetConfig(
            examples_file=config.validation_file,
            file_param="validation_file",
            max_examples=config.max_examples,
            max_new_tokens=config.max_new_tokens,
            max_answer_tokens=config.max_answer_tokens,
            min_answered=config.n_samples,
            label_confidence=False,
            batch_size=config.batch_size,
            device=config.device,
        ),
        {BASE: None, ADAPTER: config.adapter_dir},
        chat=chat,
        heartbeat=heartbeat,
    )
    base, tuned = report.models[BASE], report.models[ADAPTER]
    n = config.n_samples
    samples = [
        Sample(b.prompt, b.reference, b.answer, t.answer)
        for b, t in zip(base.answers[:n], tuned.answers[:n], strict=True)
    ]
    return EvaluationReport(
        **{f.name: getattr(report, f.name) for f in fields(_Examples)},
        base=base.scores,
        fine_tuned=tuned.scores,
        samples=samples,
        elapsed_seconds=report.elapsed_seconds,
    )
