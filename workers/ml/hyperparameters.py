"""Resolve the hyperparameters of a job request into concrete values.

The request uses OpenAI's names (``n_epochs``, ``batch_size``, ``learning_rate_multiplier``,
each a number or ``"auto"``) plus Tunery's LoRA and schedule settings. Every field may be left
out or set to ``"auto"``. The auto rules, measured on SmolLM2-135M on CPU (docs/training.md):

- ``lora_target_modules``: every linear layer of the block (the catalogue entry's list).
  All-linear LoRA at r=16 learned a small classification task far better than q/k/v/o only.
- ``lora_r`` 16, ``lora_alpha`` 32 (scale 2), ``lora_dropout`` 0.05.
- ``batch_size``: about 1/32 of the examples, rounded to a power of two, between 4 and 32:
  8 for a few hundred rows. LoRA learns less per example at large batches, and small data
  needs optimiser steps more than it needs throughput.
- ``n_epochs``: 3, raised for small sets so the run sees at least 400 examples in all
  (at most 10 epochs), lowered for large ones to about 40 000 examples in all (at least 1).
  The run keeps its best validation pass (trainer.py), so a few spare steps cost little.
- ``learning_rate_multiplier``: chosen by the trainer from how much of the answers the base
  model already predicts (``auto_learning_rate_multiplier``, workers/ml/familiarity.py): 1.0
  for answers it cannot guess (invented labels), about 0.15-0.3 for answers it mostly copies
  from the prompt. It multiplies a LoRA base rate that shrinks with the model's width
  (``base_learning_rate``): 2e-3 for SmolLM2-135M (width 576), about 3e-4 at width 4096.
- ``warmup_ratio`` 0.05, ``lr_scheduler`` "linear" decay to zero.
- ``max_seq_len``: the base model's maximum. Batches are padded only to their own longest row,
  so a generous limit costs nothing; it only decides when an example is truncated.
- ``eval_interval``: 8 validation passes per run (at least one per epoch), so the pass kept is
  never far from the best; ``checkpoint_interval``: per epoch (and every new best).
- ``early_stopping_patience``: off. Validation loss on small sets is noisy and keeps falling
  less reliably than the task accuracy improves, so stopping is opt-in.
- ``gradient_accumulation_steps`` 1 (raise it to fit a batch in memory).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from workers.ml.base_models import BaseModelSpec
from workers.ml.errors import TrainingError

# LoRA learns at a much higher rate than full fine-tuning, and wider models want lower rates
# (Adam's per-weight step adds up over more inputs: rate ~ 1/width). Measured on the embedded
# model (docs/training.md, "Learning-quality benchmark"): 2e-3 at width 576. A model whose width
# the catalogue does not give keeps the conservative BASE_LEARNING_RATE.
REFERENCE_LEARNING_RATE, REFERENCE_WIDTH = 2e-3, 576
BASE_LEARNING_RATE = 5e-4
# The auto multiplier is FAMILIAR_SLOWDOWN ** -(f ** 2), f being the share of answer tokens the
# base model already predicts: about 1 while few are familiar (a code's separators, the end of a
# short answer: invented codes still need the full rate, and 15 % less cost sku 0.13-0.28 exact
# match on two seeds), falling steeply once most are (about 1/4 at 0.7, 1/7 at 0.85). Calibrated
# with bench/learning.py (docs/training.md, "The learning rate follows what the base model
# already knows"), where each task's auto rate lands on its best measured rate.
FAMILIAR_SLOWDOWN = 16.0
SCHEDULERS = ("linear", "cosine", "constant")

DEFAULTS: dict[str, Any] = {
    "lora_r": 16,
    "lora_dropout": 0.05,
    "learning_rate_multiplier": 1.0,
    "warmup_ratio": 0.05,
    "lr_scheduler": "linear",
    "weight_decay": 0.0,
}
FIELDS = (
    "n_epochs",
    "batch_size",
    "learning_rate_multiplier",
    "lora_r",
    "lora_alpha",
    "lora_dropout",
    "lora_target_modules",
    "max_seq_len",
    "warmup_ratio",
    "lr_scheduler",
    "early_stopping_patience",
    "eval_interval",
    "checkpoint_interval",
    "gradient_accumulation_steps",
    "weight_decay",
)


@dataclass
class Hyperparameters:
    """Concrete values a training run uses; stored on the job so a resume uses the same."""

    n_epochs: int
    batch_size: int
    learning_rate_multiplier: float
    learning_rate: float
    lora_r: int
    lora_alpha: float
    lora_dropout: float
    lora_target_modules: list[str]
    max_seq_len: int
    warmup_ratio: float
    lr_scheduler: str
    early_stopping_patience: int | None
    eval_interval: int  # optimiser steps between validation passes
    checkpoint_interval: int  # optimiser steps between checkpoints
    gradient_accumulation_steps: int
    weight_decay: float
    steps_per_epoch: int
    total_steps: int
    # Share of answer tokens the base model already predicts (familiarity.py), when the auto rate
    # was chosen from it.
    answer_familiarity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hyperparameters:
        return cls(**data)


def _error(field: str, message: str) -> TrainingError:
    return TrainingError("invalid_hyperparameter", f"{field}: {message}", f"hyperparameters.{field}")


def _number(raw: dict[str, Any], field: str, kind: type, low: float, high: float, default: Any) -> Any:
    """``raw[field]`` checked to be a ``kind`` in [low, high], or ``default`` when auto/missing."""
    value = raw.get(field, "auto")
    if value == "auto" or value is None:
        return default
    # bool is an int subclass; "true" as an epoch count is a client bug, not 1.
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (kind is int and not float(value).is_integer())
    ):
        expected = "a whole number" if kind is int else "a number"
        raise _error(field, f'must be {expected} or "auto", got {value!r}.')
    if not low <= value <= high:
        raise _error(field, f"must be between {low} and {high}, got {value}.")
    return kind(value)


def base_learning_rate(spec: BaseModelSpec) -> float:
    """The learning rate at multiplier 1.0 for this base model."""
    if not spec.hidden_size:
        return BASE_LEARNING_RATE
    return REFERENCE_LEARNING_RATE * REFERENCE_WIDTH / spec.hidden_size


def auto_learning_rate_multiplier(answer_familiarity: float) -> float:
    """The rate multiplier for a task whose answers the base model predicts this well: high
    rates learn new mappings, low ones keep the copying skills a pretrained model has."""
    familiarity = min(max(answer_familiarity, 0.0), 1.0)
    return round(FAMILIAR_SLOWDOWN ** -(familiarity**2), 3)


def auto_batch_size(n_examples: int) -> int:
    return min(32, max(4, 2 ** round(math.log2(max(n_examples / 32, 1)))))


def auto_n_epochs(n_examples: int) -> int:
    if n_examples * 3 < 400:
        return min(10, math.ceil(400 / n_examples))
    if n_examples * 3 > 40_000:
        return max(1, round(40_000 / n_examples))
    return 3


VALIDATION_PASSES = 8


def _auto_eval_interval(steps_per_epoch: int, total_steps: int) -> int:
    return max(1, min(steps_per_epoch, math.ceil(total_steps / VALIDATION_PASSES)))


def _interval(raw: dict[str, Any], field: str, steps_per_epoch: int, auto: int) -> int:
    value = raw.get(field, "auto")
    if value in ("auto", None):
        return auto
    if value == "epoch":
        return steps_per_epoch
    return _number(raw, field, int, 1, 10**7, auto)


def resolve_max_seq_len(raw: dict[str, Any] | None, spec: BaseModelSpec) -> int:
    """Resolved on its own because data must be truncated before examples can be counted."""
    return _number(dict(raw or {}), "max_seq_len", int, 16, spec.max_seq_len, spec.max_seq_len)


def resolve_hyperparameters(
    raw: dict[str, Any] | None,
    n_train_examples: int,
    spec: BaseModelSpec,
    answer_familiarity: float | None = None,
) -> Hyperparameters:
    """Concrete hyperparameters for ``n_train_examples`` examples on ``spec``.

    An auto ``learning_rate_multiplier`` comes from ``answer_familiarity`` when it is given
    (the trainer measures it on the loaded model); without it (a cost estimate, job
    preparation) it is 1.0.

    Raises TrainingError(code="invalid_hyperparameter", param="hyperparameters.<field>").
    """
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise _error(unknown[0], f"unknown hyperparameter; known ones are {', '.join(FIELDS)}.")
    if n_train_examples < 1:
        raise TrainingError("invalid_training_file", "The training file has no usable examples.", "training_file")

    batch_size = _number(raw, "batch_size", int, 1, 1024, auto_batch_size(n_train_examples))
    if batch_size > n_train_examples:
        raise _error("batch_size", f"{batch_size} is more than the {n_train_examples} training examples.")
    accumulation = _number(raw, "gradient_accumulation_steps", int, 1, batch_size, 1)
    n_epochs = _number(raw, "n_epochs", int, 1, 50, auto_n_epochs(n_train_examples))
    auto_multiplier = DEFAULTS["learning_rate_multiplier"]
    if answer_familiarity is not None:
        # Rounded first, so a resumed run that reads it back resolves the same rate.
        answer_familiarity = round(answer_familiarity, 4)
        auto_multiplier = auto_learning_rate_multiplier(answer_familiarity)
    multiplier = _number(raw, "learning_rate_multiplier", float, 1e-3, 20.0, auto_multiplier)
    lora_r = _number(raw, "lora_r", int, 1, 512, DEFAULTS["lora_r"])
    lora_alpha = _number(raw, "lora_alpha", float, 0.01, 4096, 2.0 * lora_r)
    lora_dropout = _number(raw, "lora_dropout", float, 0.0, 0.9, DEFAULTS["lora_dropout"])
    max_seq_len = resolve_max_seq_len(raw, spec)
    warmup_ratio = _number(raw, "warmup_ratio", float, 0.0, 0.5, DEFAULTS["warmup_ratio"])
    weight_decay = _number(raw, "weight_decay", float, 0.0, 1.0, DEFAULTS["weight_decay"])

    targets = raw.get("lora_target_modules", "auto")
    if targets in ("auto", None):
        targets = list(spec.lora_target_modules)
    elif not isinstance(targets, list) or not targets or not all(isinstance(t, str) and t for t in targets):
        raise _error("lora_target_modules", 'must be a non-empty list of module names, e.g. ["q_proj", "v_proj"].')

    scheduler = raw.get("lr_scheduler", "auto")
    if scheduler in ("auto", None):
        scheduler = DEFAULTS["lr_scheduler"]
    elif scheduler not in SCHEDULERS:
        raise _error("lr_scheduler", f"must be one of {', '.join(SCHEDULERS)}, got {scheduler!r}.")

    patience = raw.get("early_stopping_patience", "auto")
    patience = None if patience in ("auto", None, 0) else _number(raw, "early_stopping_patience", int, 1, 1000, None)

    steps_per_epoch = math.ceil(n_train_examples / batch_size)
    return Hyperparameters(
        n_epochs=n_epochs,
        batch_size=batch_size,
        learning_rate_multiplier=multiplier,
        learning_rate=base_learning_rate(spec) * multiplier,
        lora_r=lora_r,
        lora_alpha=lora_alpha,
        lora_dropout=lora_dropout,
        lora_target_modules=list(targets),
        max_seq_len=max_seq_len,
        warmup_ratio=warmup_ratio,
        lr_scheduler=scheduler,
        early_stopping_patience=patience,
        eval_interval=_interval(
            raw, "eval_interval", steps_per_epoch, _auto_eval_interval(steps_per_epoch, steps_per_epoch * n_epochs)
        ),
        checkpoint_interval=_interval(raw, "checkpoint_interval", steps_per_epoch, steps_per_epoch),
        gradient_accumulation_steps=accumulation,
        weight_decay=weight_decay,
        steps_per_epoch=steps_per_epoch,
        total_steps=steps_per_epoch * n_epochs,
        answer_familiarity=answer_familiarity,
    )


def learning_rate_is_auto(raw: dict[str, Any] | None) -> bool:
    return (raw or {}).get("learning_rate_multiplier", "auto") in ("auto", None)
