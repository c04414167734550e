"""Answer-level validation during training.

At each validation pass the model in training answers a slice of the validation examples
greedily, and the answers are scored with the metric that fits them: exact match for labels,
per-field accuracy for JSON objects, word F1 for free text. The run keeps (and serves) the
checkpoint that answers best, and early stopping watches the same score. Validation loss alone
is a poor guide on small sets: it often keeps falling after the answers stop improving, or
rises (the model grows confident) while they still improve (docs/training.md).

The prompts and references come from the encoded examples themselves — the prompt is every
token before the last span the loss was computed on, the reference is that span — so the
probe asks exactly what training taught, for chat and prompt/completion data alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workers.ml.chat_format import IGNORE_INDEX, EncodedExample
from workers.ml.metrics import (
    classification_labels,
    exact_match_accuracy,
    json_references,
    json_scores,
    mean_score,
    token_f1,
)

if TYPE_CHECKING:
    from peft import PeftModel
    from transformers import PreTrainedTokenizerBase

MAX_PROBE_EXAMPLES = 32  # enough to tell checkpoints apart, few enough to cost seconds
MAX_ANSWER_TOKENS = 128
PROBE_BATCH = 16


@dataclass
class ProbeItem:
    prompt_ids: list[int]
    reference: str


@dataclass
class AnswerScore:
    metric: str  # "exact_match", "json_field_accuracy" or "token_f1"
    value: float


def probe_items(
    examples: Sequence[EncodedExample], tokenizer: PreTrainedTokenizerBase, limit: int = MAX_PROBE_EXAMPLES
) -> list[ProbeItem]:
    """The first ``limit`` examples as (prompt, reference): the last trained span is the answer."""
    items = []
    for example in examples[:limit]:
        span = last_trained_span(example)
        if span is not None and span.start > 0:
            answer = tokenizer.decode(example.labels[span], skip_special_tokens=True)
            items.append(ProbeItem(example.input_ids[: span.start], answer.strip()))
    return items


def last_trained_span(example: EncodedExample) -> slice | None:
    """Where the last run of trained tokens is (the final answer and its end-of-turn token)."""
    trained = [i for i, label in enumerate(example.labels) if label != IGNORE_INDEX]
    if not trained:
        return None
    start = trained[-1]
    while start > 0 and example.labels[start - 1] != IGNORE_INDEX:
        start -= 1
    return slice(start, trained[-1] + 1)


def answer_metric(references: Sequence[str]) -> str:
    """The metric users would judge answers like ``references`` by."""
    if classification_labels(references):
        return "exact_match"
    return "json_field_accuracy" if json_references(references) else "token_f1"


def answer_score(references: Sequence[str], answers: Sequence[str]) -> AnswerScore:
    """One number per pass, from ``answer_metric``."""
    metric = answer_metric(references)
    if metric == "exact_match":
        return AnswerScore(metric, exact_match_accuracy(references, answers))
    if metric == "json_field_accuracy":
        fields = json_scores(json_references(references), answers).field_accuracy
        return AnswerScore(metric, sum(fields.values()) / len(fields) if fields else 0.0)
    return AnswerScore(metric, mean_score(token_f1, references, answers))


class AnswerProbe:
    """Greedy answers of the model in training to fixed prompts, scored."""

    def __init__(self, items: list[ProbeItem], tokenizer: PreTrainedTokenizerBase, device) -> None:
        self.items = items
        self.tokenizer = tokenizer
        self.device = device
        longest = max(len(tokenizer(i.reference, add_special_tokens=False).input_ids) for i in items)
        # A little past the longest reference: enough to see an answer run on, no more.
        self.max_new_tokens = min(MAX_ANSWER_TOKENS, longest + 4 + longest // 8)
        self.stop_ids = sorted({tokenizer.eos_token_id, *_end_of_turn_ids(tokenizer)} - {None})
        self.metric = answer_metric([i.reference for i in items])

    def answers(self, model: PeftModel, tick: Callable[[], None]) -> list[str]:
        import torch

        pad = self.tokenizer.pad_token_id
        order = sorted(range(len(self.items)), key=lambda i: len(self.items[i].prompt_ids))
        answers: dict[int, str] = {}
        for start in range(0, len(order), PROBE_BATCH):
            tick()
            chunk = order[start : start + PROBE_BATCH]
            prompts = [self.items[i].prompt_ids for i in chunk]
            width = max(len(p) for p in prompts)
            # Left padding, so every row's answer starts at the same position.
            ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=self.device)
            mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=self.device)
            with torch.no_grad():
                out = model.generate(
                    input_ids=ids,
                    attention_mask=mask,
                    max_new_tokens=self.max_new_tokens,
                    do_sample=False,
                    eos_token_id=self.stop_ids,
                    pad_token_id=pad,
                )
            for i, row in zip(chunk, out[:, width:].tolist(), strict=True):
                answers[i] = self.tokenizer.decode(_until_stop(row, self.stop_ids), skip_special_tokens=True).strip()
        return [answers[i] for i in range(len(self.items))]

    def score(self, model: PeftModel, tick: Callable[[], None] = lambda: None) -> AnswerScore:
        was_training = model.training
        model.eval()
        try:
            answers = self.answers(model, tick)
        finally:
            model.train(was_training)
        return answer_score([item.reference for item in self.items], answers)


def _end_of_turn_ids(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """Special tokens that close a turn in common chat templates, where the vocabulary has them."""
    names = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>")
    return [tokenizer.convert_tokens_to_ids(n) for n in names if n in tokenizer.get_vocab()]


def _until_stop(ids: list[int], stop_ids: list[int]) -> list[int]:
    for position, token in enumerate(ids):
        if token in stop_ids:
            return ids[:position]
    return ids
