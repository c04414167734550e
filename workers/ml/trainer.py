"""LoRA fine-tuning loop.

A hand-written loop rather than ``transformers.Trainer``, for what a hosted service needs:
length-grouped batches with dynamic padding (about 2x the tokens/s of padding to the maximum,
see bench/train_throughput.py), loss on assistant tokens only, cooperative cancel/pause checked
every step, checkpoints that a worker killed with SIGKILL resumes from bit-exactly, and every
failure turned into a TrainingError a user can act on.

Usage from a Celery task::

    result = train(TrainConfig(base_model=spec, training_file=path, output_dir=job_dir), callbacks)
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from workers.ml.answer_probe import AnswerProbe, probe_items
from workers.ml.base_models import BaseModelSpec, default_device, load_model, load_tokenizer
from workers.ml.batching import collate, length_grouped_batches, split_micro_batches
from workers.ml.chat_format import EncodedExample, EncodeReport, TooLong, encode_dataset, example_format
from workers.ml.checkpoints import (
    adapter_weights,
    checkpoint_dir,
    latest_resumable,
    load_checkpoint,
    read_trainer_state,
    save_adapter_files,
    save_checkpoint,
    write_atomically,
)
from workers.ml.errors import TrainingError
from workers.ml.familiarity import familiarity_sample, measure_familiarity
from workers.ml.hyperparameters import (
    Hyperparameters,
    learning_rate_is_auto,
    resolve_hyperparameters,
    resolve_max_seq_len,
)
from workers.ml.jsonl import read_jsonl
from workers.ml.losses import token_stats
from workers.ml.manifest import build_manifest

if TYPE_CHECKING:
    import torch
    from peft import PeftModel
    from transformers import PreTrainedTokenizerBase

__all__ = [
    "TrainConfig",
    "TrainResult",
    "TrainingCallbacks",
    "TrainingError",
    "StepMetrics",
    "EvalMetrics",
    "CheckpointInfo",
    "TrainingPlan",
    "plan_training",
    "train",
]

StopRequest = Literal["cancel", "pause"]
MAX_GRAD_NORM = 1.0
# Validation loss is compared with this slack so noise in the last digits is not "improvement".
MIN_IMPROVEMENT = 1e-4


@dataclass
class TrainConfig:
    base_model: BaseModelSpec
    training_file: Path
    output_dir: Path  # checkpoints/ and adapter/ go here; reuse it to resume
    validation_file: Path | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)  # raw request, "auto" allowed
    seed: int = 42
    device: str | None = None  # None: CUDA when available, else CPU
    on_too_long: TooLong = "truncate"
    max_eval_examples: int = 500  # validation passes during training use the first N examples
    resume: bool = True  # continue from the latest checkpoint in output_dir, if any
    # Continue training a fine-tuned model: start from its adapter (its LoRA shape wins).
    init_adapter_dir: Path | None = None


@dataclass
class StepMetrics:
    step: int
    total_steps: int
    epoch: float  # fractional: 1.5 = half way through the second epoch
    train_loss: float
    token_accuracy: float
    learning_rate: float
    tokens: int  # non-padding tokens in this step
    tokens_seen: int  # non-padding tokens so far, the billable count
    tokens_per_second: float
    elapsed_seconds: float
    eta_seconds: float


@dataclass
class EvalMetrics:
    step: int
    epoch: float
    validation_loss: float
    validation_token_accuracy: float
    # Greedy answers to validation prompts, scored (workers/ml/answer_probe.py).
    answer_metric: str | None = None
    answer_score: float | None = None


@dataclass
class CheckpointInfo:
    step: int
    epoch: float
    path: Path  # a servable adapter folder
    train_loss: float
    validation_loss: float | None
    answer_score: float | None = None  # validation answers at this step, when they were scored


class TrainingCallbacks:
    """Hooks the loop calls; subclass and override what you need (all default to no-ops).

    Called from the training thread: keep them quick (throttle database writes yourself).
    """

    def on_event(self, level: str, message: str) -> None: ...

    def on_hyperparameters(self, hyperparameters: Hyperparameters) -> None:
        """Called once before the first step with the values the run uses: the auto learning
        rate is chosen only then, from the loaded model (``_Run.fit_learning_rate``)."""

    def on_step(self, metrics: StepMetrics) -> None: ...

    def on_eval(self, metrics: EvalMetrics) -> None: ...

    def on_checkpoint(self, checkpoint: CheckpointInfo) -> None: ...

    def heartbeat(self) -> None:
        """Called every step and every validation batch: proof of life for the reaper."""

    def should_stop(self) -> StopRequest | None:
        """Checked before every step and validation batch. "pause" saves a checkpoint first."""
        return None


@dataclass
class TrainResult:
    status: Literal["succeeded", "cancelled", "paused"]
    adapter_dir: Path | None  # None unless succeeded
    hyperparameters: Hyperparameters
    data_report: EncodeReport
    step: int
    total_steps: int
    tokens_seen: int
    train_loss: float | None
    validation_loss: float | None
    stopped_early: bool
    resumed_from_step: int | None
    # The step whose weights the adapter holds: the best validation pass, or the last step.
    best_step: int | None
    best_answer_score: float | None
    checkpoints: list[CheckpointInfo]
    elapsed_seconds: float

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["adapter_dir"] = str(self.adapter_dir) if self.adapter_dir else None
        for checkpoint in data["checkpoints"]:
            checkpoint["path"] = str(checkpoint["path"])
        return data


@dataclass
class TrainingPlan:
    """Encoded data and resolved hyperparameters; also what a cost estimate needs."""

    train: list[EncodedExample]
    validation: list[EncodedExample]
    report: EncodeReport
    hyperparameters: Hyperparameters
    data_format: str

    @property
    def tokens_per_epoch(self) -> int:
        return self.report.total_tokens

    @property
    def billable_tokens(self) -> int:
        return self.report.total_tokens * self.hyperparameters.n_epochs


def plan_training(config: TrainConfig, tokenizer: PreTrainedTokenizerBase | None = None) -> TrainingPlan:
    tokenizer = tokenizer or load_tokenizer(config.base_model)
    max_seq_len = resolve_max_seq_len(config.hyperparameters, config.base_model)
    rows = read_jsonl(config.training_file, "training_file")
    train_examples, report = encode_dataset(tokenizer, rows, max_seq_len, config.on_too_long)
    if not train_examples:
        raise TrainingError(
            "invalid_training_file",
            f"None of the {report.total} training examples has assistant tokens to learn within {max_seq_len} tokens.",
            "training_file",
        )
    validation: list[EncodedExample] = []
    if config.validation_file is not None:
        val_rows = read_jsonl(config.validation_file, "validation_file")
        validation, _ = encode_dataset(tokenizer, val_rows, max_seq_len, "truncate")
    formats = {example_format(example, line) for line, example in rows}
    return TrainingPlan(
        train=train_examples,
        validation=validation[: config.max_eval_examples],
        report=report,
        hyperparameters=resolve_hyperparameters(config.hyperparameters, len(train_examples), config.base_model),
        data_format=formats.pop() if len(formats) == 1 else "mixed",
    )


class _Stop(Exception):
    def __init__(self, request: StopRequest) -> None:
        self.request = request


def _is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, (torch.OutOfMemoryError, MemoryError)) or "can't allocate memory" in str(exc)


def _oom_error(hp: Hyperparameters, longest: int, device: torch.device) -> TrainingError:
    where = "GPU" if device.type == "cuda" else "system"
    smaller_batch = max(1, hp.batch_size // 2)
    smaller_len = max(16, min(hp.max_seq_len, longest) // 2)
    return TrainingError(
        "out_of_memory",
        f"Training ran out of {where} memory with batch size {hp.batch_size} and sequences of up to "
        f"{longest} tokens. Try batch_size {smaller_batch}, or max_seq_len {smaller_len}, or "
        f"gradient_accumulation_steps {hp.gradient_accumulation_steps * 2} to split each batch.",
        "hyperparameters.batch_size",
    )


def _build_model(config: TrainConfig, hp: Hyperparameters, device: torch.device) -> PeftModel:
    from peft import LoraConfig, get_peft_model

    model = load_model(config.base_model, device)
    if config.init_adapter_dir is not None:
        from peft import PeftModel

        return PeftModel.from_pretrained(model, str(config.init_adapter_dir), is_trainable=True)
    lora = LoraConfig(
        r=hp.lora_r,
        lora_alpha=hp.lora_alpha,
        lora_dropout=hp.lora_dropout,
        target_modules=hp.lora_target_modules,
        task_type="CAUSAL_LM",
    )
    try:
        return get_peft_model(model, lora)
    except ValueError as exc:
        raise TrainingError(
            "invalid_hyperparameter",
            f"lora_target_modules: {hp.lora_target_modules} do not all match layers of "
            f"{config.base_model.name} ({exc}).",
            "hyperparameters.lora_target_modules",
        ) from exc


def _rng_state(device: torch.device) -> dict[str, Any]:
    import torch

    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _restore_rng(state: dict[str, Any], device: torch.device) -> None:
    import torch

    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


class _Run:
    """One training run's mutable state; split from train() to keep each part readable."""

    def __init__(self, config: TrainConfig, callbacks: TrainingCallbacks) -> None:
        import torch
        from transformers import get_scheduler

        self.config, self.callbacks = config, callbacks
        self.started = time.monotonic()
        torch.manual_seed(config.seed)
        self.tokenizer = load_tokenizer(config.base_model)
        self.plan = plan_training(config, self.tokenizer)
        self.device = torch.device(config.device or default_device())
        self.model = _build_model(config, self.plan.hyperparameters, self.device)
        self.hp = hp = self.fit_learning_rate()
        callbacks.on_hyperparameters(hp)
        self.optimizer = torch.optim.AdamW(
            [p for p in self.model.parameters() if p.requires_grad], lr=hp.learning_rate, weight_decay=hp.weight_decay
        )
        self.scheduler = get_scheduler(
            "constant_with_warmup" if hp.lr_scheduler == "constant" else hp.lr_scheduler,
            self.optimizer,
            num_warmup_steps=math.ceil(hp.warmup_ratio * hp.total_steps),
            num_training_steps=hp.total_steps,
        )
        self.step = 0
        self.tokens_seen = 0
        self.best_validation: float | None = None
        self.best_answer_score: float | None = None
        self.best_step: int | None = None
        self.evals_without_improvement = 0
        items = probe_items(self.plan.validation, self.tokenizer)
        self.probe = AnswerProbe(items, self.tokenizer, self.device) if items else None
        self.stopped_early = False
        self.longest_in_flight = 0  # longest example of the batch being processed, for OOM advice
        self.last_train_loss: float | None = None
        self.last_validation: float | None = None
        self.last_answer_score: float | None = None
        self.checkpoints: list[CheckpointInfo] = []
        self.resumed_from: int | None = None
        self.step_times: list[float] = []

    def fit_learning_rate(self) -> Hyperparameters:
        """The plan's hyperparameters with an auto learning rate chosen from how much of the
        answers the model already predicts (familiarity.py). A resumed run reads the
        measurement back from its checkpoint, so it resolves exactly the rate it started with."""
        config, planned = self.config, self.plan.hyperparameters
        if not learning_rate_is_auto(config.hyperparameters):
            return planned
        saved = latest_resumable(config.output_dir) if config.resume else None
        if saved is not None:
            familiarity = read_trainer_state(saved)["hyperparameters"].get("answer_familiarity")
        else:
            with self.autocast():
                familiarity = measure_familiarity(self.model, self.plan.train, self.tokenizer.pad_token_id, self.device)
        hp = resolve_hyperparameters(config.hyperparameters, len(self.plan.train), config.base_model, familiarity)
        self.plan = replace(self.plan, hyperparameters=hp)
        if saved is None:
            self.callbacks.on_event(
                "info",
                f"Learning rate {hp.learning_rate:.2g} (multiplier {hp.learning_rate_multiplier:g}): before training, "
                f"the model already predicts {familiarity:.0%} of the answer tokens of "
                f"{len(familiarity_sample(self.plan.train))} training examples with confidence (p > 1/e). "
                "Answers it cannot guess get a high rate to learn them; answers it mostly copies from the "
                "prompt get a low one that keeps its copying skill.",
            )
        return hp

    # -- state ---------------------------------------------------------------------------------

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """bf16 autocast on CUDA (base weights bf16, LoRA weights fp32); plain fp32 on CPU."""
        import torch

        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def trainer_state(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "tokens_seen": self.tokens_seen,
            "best_validation": self.best_validation,
            "best_answer_score": self.best_answer_score,
            "best_step": self.best_step,
            "evals_without_improvement": self.evals_without_improvement,
            "stopped_early": self.stopped_early,
            "last_train_loss": self.last_train_loss,
            "last_validation": self.last_validation,
            "last_answer_score": self.last_answer_score,
            "hyperparameters": self.hp.to_dict(),
            "seed": self.config.seed,
        }

    def manifest(self, step: int | None = None) -> dict[str, Any]:
        return build_manifest(
            self.config.base_model, self.tokenizer, self.plan.data_format, self.hp.to_dict(), step or self.step
        )

    def resume(self) -> None:
        from peft import set_peft_model_state_dict

        folder = latest_resumable(self.config.output_dir) if self.config.resume else None
        if folder is None:
            return
        state, resume_state, weights = load_checkpoint(folder)
        if Hyperparameters.from_dict(state["hyperparameters"]) != self.hp or state["seed"] != self.config.seed:
            raise TrainingError(
                "checkpoint_mismatch",
                f"The checkpoint at step {state['step']} was made with other settings or data; "
                "start a new job instead of resuming this one.",
                None,
            )
        set_peft_model_state_dict(self.model, weights)
        self.optimizer.load_state_dict(resume_state["optimizer"])
        self.scheduler.load_state_dict(resume_state["scheduler"])
        _restore_rng(resume_state["rng"], self.device)
        self.step = state["step"]
        self.tokens_seen = state["tokens_seen"]
        self.best_validation = state["best_validation"]
        self.best_answer_score = state.get("best_answer_score")
        self.best_step = state.get("best_step")
        self.evals_without_improvement = state["evals_without_improvement"]
        self.stopped_early = state["stopped_early"]
        self.last_train_loss = state["last_train_loss"]
        self.last_validation = state["last_validation"]
        self.last_answer_score = state.get("last_answer_score")
        self.resumed_from = self.step
        self.callbacks.on_event("info", f"Resumed from the checkpoint at step {self.step}.")

    def checkpoint(self) -> None:
        path = save_checkpoint(
            self.config.output_dir,
            self.step,
            self.model,
            self.manifest(),
            self.trainer_state(),
            {
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "rng": _rng_state(self.device),
            },
        )
        info = CheckpointInfo(
            self.step, self.epoch, path, self.last_train_loss or math.nan, self.last_validation, self.last_answer_score
        )
        self.checkpoints.append(info)
        self.callbacks.on_checkpoint(info)

    @property
    def epoch(self) -> float:
        return self.step / self.hp.steps_per_epoch

    # -- loop ----------------------------------------------------------------------------------

    def check_stop(self) -> None:
        self.callbacks.heartbeat()
        request = self.callbacks.should_stop()
        if request is not None:
            raise _Stop(request)

    def train_step(self, batch: list[int]) -> StepMetrics:
        import torch

        started = time.monotonic()
        examples = self.plan.train
        n_trained = sum(examples[i].n_trained for i in batch)
        loss_sum = 0.0
        n_correct = 0
        n_tokens = sum(len(examples[i]) for i in batch)
        self.model.train()
        for micro in split_micro_batches(batch, self.hp.gradient_accumulation_steps):
            tensors = collate([examples[i] for i in micro], self.tokenizer.pad_token_id, self.device)
            with self.autocast():
                stats = token_stats(self.model, tensors)
            # Normalised by the whole batch's trained tokens, so accumulation equals one big batch.
            (stats.loss_sum / n_trained).backward()
            loss_sum += float(stats.loss_sum.detach())
            n_correct += stats.n_correct
        if not math.isfinite(loss_sum):
            raise TrainingError(
                "training_diverged",
                f"The loss became {loss_sum} at step {self.step + 1}. Try a lower learning_rate_multiplier.",
                "hyperparameters.learning_rate_multiplier",
            )
        torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], MAX_GRAD_NORM)
        learning_rate = self.scheduler.get_last_lr()[0]
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        self.tokens_seen += n_tokens
        self.last_train_loss = loss_sum / n_trained
        seconds = time.monotonic() - started
        self.step_times.append(seconds)
        recent = self.step_times[-20:]
        return StepMetrics(
            step=self.step,
            total_steps=self.hp.total_steps,
            epoch=self.epoch,
            train_loss=self.last_train_loss,
            token_accuracy=n_correct / n_trained,
            learning_rate=learning_rate,
            tokens=n_tokens,
            tokens_seen=self.tokens_seen,
            tokens_per_second=n_tokens / seconds if seconds > 0 else 0.0,
            elapsed_seconds=time.monotonic() - self.started,
            eta_seconds=sum(recent) / len(recent) * (self.hp.total_steps - self.step),
        )

    def validate(self) -> EvalMetrics:
        import torch

        examples = self.plan.validation
        batches = length_grouped_batches([len(e) for e in examples], self.hp.batch_size, seed=0, epoch=0)
        loss_sum, n_correct, n_tokens = 0.0, 0, 0
        self.model.eval()
        with torch.no_grad(), self.autocast():
            for batch in batches:
                self.check_stop()
                self.longest_in_flight = max(len(examples[i]) for i in batch)
                stats = token_stats(
                    self.model, collate([examples[i] for i in batch], self.tokenizer.pad_token_id, self.device)
                )
                loss_sum += float(stats.loss_sum)
                n_correct += stats.n_correct
                n_tokens += stats.n_tokens
        self.model.train()
        metrics = EvalMetrics(self.step, self.epoch, loss_sum / n_tokens, n_correct / n_tokens)
        if self.probe is not None:
            answers = self.probe.score(self.model, self.check_stop)
            metrics.answer_metric, metrics.answer_score = answers.metric, answers.value
        self.last_validation = metrics.validation_loss
        self.last_answer_score = metrics.answer_score
        if self.improves(metrics):
            self.best_validation = metrics.validation_loss
            self.best_answer_score = metrics.answer_score
            self.best_step = self.step
            self.evals_without_improvement = 0
        else:
            self.evals_without_improvement += 1
        self.callbacks.on_eval(metrics)
        return metrics

    def improves(self, metrics: EvalMetrics) -> bool:
        """Better answers win; at equal answers (common on small sets), lower validation loss."""
        if self.best_validation is None:
            return True
        lower_loss = metrics.validation_loss < self.best_validation - MIN_IMPROVEMENT
        if metrics.answer_score is None or self.best_answer_score is None:
            return lower_loss
        if metrics.answer_score != self.best_answer_score:
            return metrics.answer_score > self.best_answer_score
        return lower_loss

    def should_stop_early(self) -> bool:
        patience = self.hp.early_stopping_patience
        return patience is not None and self.evals_without_improvement >= patience

    def warn_about_data(self) -> None:
        report = self.plan.report
        if report.truncated_lines or report.too_long_lines or report.no_target_lines:
            self.callbacks.on_event(
                "warn",
                f"Of {report.total} examples: {len(report.truncated_lines)} truncated to "
                f"{self.hp.max_seq_len} tokens, {len(report.too_long_lines)} skipped as too long, "
                f"{len(report.no_target_lines)} skipped with no assistant tokens to learn.",
            )

    def loop(self) -> None:
        hp = self.hp
        lengths = [len(example) for example in self.plan.train]
        while self.step < hp.total_steps and not self.stopped_early:
            epoch = self.step // hp.steps_per_epoch
            batches = length_grouped_batches(lengths, hp.batch_size, self.config.seed, epoch)
            # Resuming mid-epoch: skip the batches this epoch already trained on.
            for batch in batches[self.step - epoch * hp.steps_per_epoch :]:
                self.check_stop()
                self.longest_in_flight = max(lengths[i] for i in batch)
                self.callbacks.on_step(self.train_step(batch))
                last = self.step == hp.total_steps
                best = False
                if self.plan.validation and (self.step % hp.eval_interval == 0 or last):
                    self.validate()
                    self.stopped_early = self.should_stop_early()
                    best = self.best_step == self.step
                # A new best is always kept on disk: the adapter is made from it at the end.
                if self.step % hp.checkpoint_interval == 0 or last or self.stopped_early or best:
                    self.checkpoint()
                if self.stopped_early:
                    self.callbacks.on_event(
                        "info",
                        f"Stopped early at step {self.step}: validation did not improve for "
                        f"{hp.early_stopping_patience} evaluations.",
                    )
                    break

    def run(self) -> TrainResult:
        self.warn_about_data()
        self.resume()
        try:
            self.loop()
        except _Stop as stop:
            if stop.request == "pause" and self.step > 0 and not any(c.step == self.step for c in self.checkpoints):
                self.checkpoint()
            return self.result("paused" if stop.request == "pause" else "cancelled", None)
        except (RuntimeError, MemoryError) as exc:
            if _is_oom(exc):
                raise _oom_error(self.hp, self.longest_in_flight, self.device) from exc
            raise
        self.keep_best()
        adapter_dir = write_atomically(
            self.config.output_dir / "adapter",
            lambda folder: save_adapter_files(self.model, folder, self.manifest(self.best_step or self.step)),
        )
        return self.result("succeeded", adapter_dir)

    def keep_best(self) -> None:
        """Load the weights of the best validation pass, if it was not the last step's."""
        from peft import set_peft_model_state_dict

        if self.best_step is None or self.best_step == self.step:
            return
        set_peft_model_state_dict(self.model, adapter_weights(checkpoint_dir(self.config.output_dir, self.best_step)))
        if self.best_answer_score is not None and self.probe is not None:
            metric = f"{self.probe.metric.replace('_', ' ')} {self.best_answer_score:.3f}"
        else:
            metric = f"validation loss {self.best_validation:.4f}"
        self.callbacks.on_event(
            "info",
            f"The model keeps the weights of step {self.best_step}, its best on validation ({metric}); "
            f"training ran to step {self.step}.",
        )

    def result(self, status: str, adapter_dir: Path | None) -> TrainResult:
        return TrainResult(
            status=status,  # type: ignore[arg-type]
            adapter_dir=adapter_dir,
            hyperparameters=self.hp,
            data_report=self.plan.report,
            step=self.step,
            total_steps=self.hp.total_steps,
            tokens_seen=self.tokens_seen,
            train_loss=self.last_train_loss,
            validation_loss=self.last_validation,
            stopped_early=self.stopped_early,
            resumed_from_step=self.resumed_from,
            best_step=self.best_step or self.step,
            best_answer_score=self.best_answer_score,
            checkpoints=self.checkpoints,
            elapsed_seconds=time.monotonic() - self.started,
        )


def train(config: TrainConfig, callbacks: TrainingCallbacks | None = None) -> TrainResult:
    """Fine-tune ``config.base_model`` with LoRA; resumes from ``config.output_dir`` if possible.

    Returns status "succeeded" (adapter in output_dir/adapter), "cancelled" or "paused" (as
    asked by ``callbacks.should_stop``). Raises TrainingError for anything a user must fix.
    """
    callbacks = callbacks or TrainingCallbacks()
    try:
        run = _Run(config, callbacks)
    except (RuntimeError, MemoryError) as exc:
        if _is_oom(exc):
            raise TrainingError(
                "out_of_memory", f"The base model {config.base_model.name} does not fit in memory.", "model"
            ) from exc
        raise
    return run.run()
