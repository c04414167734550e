"""What the workers do with a job: prepare it (cpu queue), then train and evaluate it (gpu
queue). Everything the ML core reports is written to the job, its events and checkpoints."""

import csv
import logging
import socket
import time
from contextlib import ExitStack
from pathlib import Path

from django.conf import settings
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from tunery.files.models import File, Purpose, SourceFormat
from tunery.files.models import Status as FileStatus
from tunery.files.storage import local_path, store
from tunery.jobs.holdout import HELD_OUT_FRACTION, HOLD_OUT_FROM, IN_DISTRIBUTION_CAVEAT
from tunery.jobs.models import Checkpoint, FineTuningJob, JobStatus
from tunery.jobs.services import add_event, enqueue_training, touch_heartbeat, transition
from tunery.jobs.signals import model_ready
from tunery.public_ids import new_public_id

logger = logging.getLogger(__name__)

# Database writes from the training loop are throttled: a GPU step can take milliseconds.
METRICS_EVERY_SECONDS = 1.0
HEARTBEAT_EVERY_SECONDS = 2.0


def job_dir(job: FineTuningJob) -> Path:
    """Checkpoints and the adapter. On several machines this folder must be shared storage
    (the same volume for GPU workers and the inference engine)."""
    return Path(settings.TUNERY_JOBS_DIR) / job.organization.public_id / job.public_id


def _fail(job: FineTuningJob, code: str, message: str, param: str | None = None) -> None:
    if transition(
        job,
        [JobStatus.VALIDATING_FILES, JobStatus.QUEUED, JobStatus.RUNNING],
        JobStatus.FAILED,
        finished_at=timezone.now(),
        error={"code": code, "message": message, "param": param},
    ):
        add_event(job, message, level="error")


def _load(job_id: int, organization_id: int, status: str) -> FineTuningJob | None:
    return (
        FineTuningJob.objects.select_related("base_model", "organization", "training_file", "validation_file", "parent")
        .filter(pk=job_id, organization_id=organization_id, status=status)
        .first()
    )


def _train_config(job: FineTuningJob, stack: ExitStack):
    """The TrainConfig for a job, with local paths to its files (held open by `stack`)."""
    from workers.ml.trainer import TrainConfig

    folder = job_dir(job)
    held_out = folder / "held_out"
    if job.validation_file:
        training = stack.enter_context(local_path(job.training_file.content.name))
        validation = stack.enter_context(local_path(job.validation_file.content.name))
    elif (held_out / "train.jsonl").exists():
        training, validation = held_out / "train.jsonl", held_out / "validation.jsonl"
    else:
        training, validation = stack.enter_context(local_path(job.training_file.content.name)), None
    return TrainConfig(
        base_model=job.base_model.spec(),
        training_file=Path(training),
        validation_file=Path(validation) if validation else None,
        output_dir=folder,
        hyperparameters=job.hyperparameters,
        seed=job.seed,
        init_adapter_dir=Path(job.parent.adapter_path) if job.parent_id else None,
    )


def prepare(job_id: int, organization_id: int) -> None:
    """validating_files → queued: check the files against the chosen base model, resolve
    "auto" hyperparameters, hold out a validation split when none was given."""
    from workers.ml.errors import TrainingError
    from workers.ml.trainer import plan_training

    job = _load(job_id, organization_id, JobStatus.VALIDATING_FILES)
    if job is None:
        return  # cancelled meanwhile, or a redelivered message
    try:
        with ExitStack() as stack:
            if job.validation_file is None:
                _hold_out_validation(job, stack)
            plan = plan_training(_train_config(job, stack))
    except TrainingError as error:
        _fail(job, error.code, error.message, error.param)
        return
    hp = plan.hyperparameters
    report = plan.report
    if not transition(
        job,
        JobStatus.VALIDATING_FILES,
        JobStatus.QUEUED,
        resolved_hyperparameters=hp.to_dict(),
        total_steps=hp.total_steps,
    ):
        return
    add_event(
        job,
        f"Files validated: {len(plan.train)} training examples, {plan.tokens_per_epoch:,} tokens per epoch × "
        f"{hp.n_epochs} epochs = {plan.billable_tokens:,} tokens to train; "
        f"{hp.total_steps} steps of batch size {hp.batch_size}.",
        data={"hyperparameters": hp.to_dict(), "truncated_lines": len(report.truncated_lines)},
    )
    if report.truncated_lines:
        lines = ", ".join(map(str, report.truncated_lines[:10]))
        add_event(
            job,
            f"{len(report.truncated_lines)} examples are longer than max_seq_len={hp.max_seq_len} tokens "
            f"and were truncated (lines {lines}).",
            level="warn",
        )
    enqueue_training(job)


def _hold_out_validation(job: FineTuningJob, stack: ExitStack) -> None:
    """No validation file: keep 10% of the training examples aside for validation and the
    base-vs-fine-tuned evaluation (stratified for class-like data)."""
    from workers.ml.data.transform import split

    folder = job_dir(job) / "held_out"
    if (folder / "train.jsonl").exists() or (job.training_file.n_examples or 0) < HOLD_OUT_FROM:
        return
    folder.mkdir(parents=True, exist_ok=True)
    source = stack.enter_context(local_path(job.training_file.content.name))
    result = split(
        source,
        folder / "train.jsonl",
        folder / "validation.jsonl",
        validation_fraction=HELD_OUT_FRACTION,
        seed=job.seed,
    )
    add_event(
        job,
        f"No validation file: held out {result.n_validation} of {result.n_train + result.n_validation} examples "
        "for validation and evaluation.",
    )


class JobCallbacks:
    """Bridges the training loop and the database, throttling writes."""

    def __init__(self, job: FineTuningJob):
        self.job = job
        self.last_metrics_write = 0.0
        self.last_heartbeat = 0.0
        self.stop_request = ""
        self.last_validation: dict = {}

    def on_event(self, level: str, message: str) -> None:
        add_event(self.job, message, level=level)

    def on_hyperparameters(self, hp) -> None:
        # The auto learning rate is chosen by the trainer from the loaded model, after
        # prepare() resolved the rest: the job shows the values the run really uses.
        FineTuningJob.objects.filter(pk=self.job.pk).update(resolved_hyperparameters=hp.to_dict())

    def on_step(self, m) -> None:
        now = time.monotonic()
        last = m.step == m.total_steps
        if not last and now - self.last_metrics_write < METRICS_EVERY_SECONDS:
            return
        self.last_metrics_write = now
        data = {
            "step": m.step,
            "total_steps": m.total_steps,
            "epoch": round(m.epoch, 3),
            "train_loss": m.train_loss,
            "train_mean_token_accuracy": m.token_accuracy,
            "learning_rate": m.learning_rate,
            "tokens_per_second": round(m.tokens_per_second, 1),
            "tokens_seen": m.tokens_seen,
            "eta_seconds": round(m.eta_seconds, 1),
        }
        add_event(
            self.job, f"Step {m.step}/{m.total_steps}: training loss={m.train_loss:.4f}", type="metrics", data=data
        )
        FineTuningJob.objects.filter(pk=self.job.pk).update(
            step=m.step, total_steps=m.total_steps, eta_seconds=m.eta_seconds, trained_tokens=m.tokens_seen
        )

    def on_eval(self, m) -> None:
        self.last_validation = {
            "valid_loss": m.validation_loss,
            "valid_mean_token_accuracy": m.validation_token_accuracy,
        }
        message = f"Step {m.step}: validation loss={m.validation_loss:.4f}"
        if m.answer_score is not None:
            self.last_validation.update(valid_answer_score=m.answer_score, valid_answer_metric=m.answer_metric)
            message += f", {m.answer_metric.replace('_', ' ')}={m.answer_score:.3f}"
        add_event(
            self.job,
            message,
            type="metrics",
            data={"step": m.step, "epoch": round(m.epoch, 3), **self.last_validation},
        )

    def on_checkpoint(self, c) -> None:
        metrics = {"step": c.step, "train_loss": c.train_loss, "valid_loss": c.validation_loss}
        if c.answer_score is not None:
            metrics["valid_answer_score"] = c.answer_score
        Checkpoint.objects.update_or_create(
            job=self.job, step=c.step, defaults={"epoch": c.epoch, "path": str(c.path), "metrics": metrics}
        )
        add_event(self.job, f"Checkpoint saved at step {c.step} (epoch {c.epoch:.2f}).")

    def heartbeat(self) -> None:
        now = time.monotonic()
        if now - self.last_heartbeat >= HEARTBEAT_EVERY_SECONDS:
            self.last_heartbeat = now
            self.stop_request = touch_heartbeat(self.job)

    def should_stop(self):
        return self.stop_request or None


def train(job_id: int, organization_id: int) -> None:
    """queued → running → succeeded | failed | cancelled | paused. Claimed by a conditional
    update, so a redelivered message (Redis redelivers long tasks) does nothing twice."""
    from workers.ml.errors import TrainingError
    from workers.ml.trainer import train as run_training

    now = timezone.now()
    claimed = FineTuningJob.objects.filter(pk=job_id, organization_id=organization_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING,
        attempts=F("attempts") + 1,
        worker=socket.gethostname(),
        heartbeat_at=now,
        started_at=Coalesce("started_at", now),
        stop_request="",
    )
    if not claimed:
        return
    job = _load(job_id, organization_id, JobStatus.RUNNING)
    resuming = job.checkpoints.exists()
    add_event(
        job,
        f"Training {'resumed from the last checkpoint' if resuming else 'started'} on {job.worker} "
        f"(attempt {job.attempts}).",
    )
    try:
        with ExitStack() as stack:
            config = _train_config(job, stack)
            result = run_training(config, JobCallbacks(job))
            if result.status == "succeeded":
                evaluation = _evaluate(job, result.adapter_dir, config.validation_file)
    except TrainingError as error:
        _fail(job, error.code, error.message, error.param)
        return
    except Exception:
        logger.exception("training %s failed", job.public_id)
        _fail(
            job,
            "internal_error",
            "Training stopped because of an error on our side. The checkpoints are kept; "
            "start a new job or contact support.",
        )
        return

    if result.status == "cancelled":
        if transition(
            job,
            JobStatus.RUNNING,
            JobStatus.CANCELLED,
            finished_at=timezone.now(),
            trained_tokens=result.tokens_seen,
            step=result.step,
        ):
            add_event(job, f"Job cancelled at step {result.step}; {job.checkpoints.count()} checkpoint(s) kept.")
        return
    if result.status == "paused":
        if transition(job, JobStatus.RUNNING, JobStatus.PAUSED, heartbeat_at=None, step=result.step):
            add_event(job, f"Job paused at step {result.step}.")
        return
    result_file = _write_result_file(job)
    if transition(
        job,
        JobStatus.RUNNING,
        JobStatus.SUCCEEDED,
        finished_at=timezone.now(),
        fine_tuned_model=job.model_name,
        adapter_path=str(result.adapter_dir),
        trained_tokens=result.tokens_seen,
        step=result.step,
        served_step=result.best_step,
        evaluation=evaluation,
        result_file=result_file,
        eta_seconds=None,
    ):
        add_event(job, f"The job has successfully completed: {job.fine_tuned_model}.")
        model_ready.send(sender=FineTuningJob, job=job)


def _evaluate(job: FineTuningJob, adapter_dir: Path, validation_file: Path | None) -> dict | None:
    from workers.ml.evaluation import EvaluationConfig, evaluate

    if validation_file is None:
        add_event(
            job, "No validation data (fewer than 20 examples and no validation file): evaluation skipped.", level="warn"
        )
        return None
    add_event(job, "Evaluating the base and the fine-tuned model on the validation examples.")
    callbacks = JobCallbacks(job)
    report = evaluate(
        EvaluationConfig(adapter_dir=adapter_dir, validation_file=validation_file), heartbeat=callbacks.heartbeat
    )
    # Without a validation file, _train_config evaluates on rows held out of the training file:
    # in-distribution, so the job says its scores overstate what new data will get.
    source = "validation_file" if job.validation_file_id else "training_file"
    if source == "training_file":
        add_event(job, IN_DISTRIBUTION_CAVEAT, level="warn")
    return {**report.to_dict(), "validation_source": source}


RESULT_COLUMNS = [
    "step",
    "epoch",
    "train_loss",
    "train_mean_token_accuracy",
    "valid_loss",
    "valid_mean_token_accuracy",
    "learning_rate",
    "tokens_per_second",
]


def _write_result_file(job: FineTuningJob) -> File:
    """The per-step metrics as CSV, a file with purpose `fine-tune-results` (as OpenAI's)."""
    rows: dict[int, dict] = {}
    for data in job.events.filter(type="metrics").order_by("created_at", "pk").values_list("data", flat=True):
        rows.setdefault(data["step"], {}).update(data)
    path = job_dir(job) / "results.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, RESULT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows[step] for step in sorted(rows))
    file = File(
        organization=job.organization,
        filename=f"{job.public_id}-results.csv",
        purpose=Purpose.FINE_TUNE_RESULTS,
        source_format=SourceFormat.CSV,
        status=FileStatus.PROCESSED,
        bytes=path.stat().st_size,
        status_details=f"Step metrics of {job.public_id}.",
        report={},
    )
    file.public_id = new_public_id("file")
    store(file.content, file.filename, path)
    file.save()
    return file
