"""Job workflows: create (checks, then validating_files → queued), cancel, pause, resume, events."""

import os
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tunery.api.errors import RefusedRequest
from tunery.billing import ledger
from tunery.billing.estimates import JobEstimate, estimate_job
from tunery.billing.limits import BillingRefusal, after_spend, check_job_affordable
from tunery.billing.money import display
from tunery.files.models import File, Purpose
from tunery.files.models import Status as FileStatus
from tunery.jobs.holdout import examples_to_train
from tunery.jobs.models import FINAL_STATUSES, FineTuningJob, JobEvent, JobStatus
from tunery.jobs.naming import ResolvedModel, resolve_model
from tunery.jobs.throughput import training_throughput
from tunery.orgs.tenancy import scoped

SUFFIX = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
METADATA_MAX_KEYS = 16


class JobError(RefusedRequest):
    """A request about a job that cannot be honoured."""


def _training_file(organization, file_id, param: str) -> File:
    file = scoped(File, organization).filter(public_id=file_id).first() if isinstance(file_id, str) else None
    if file is None:
        raise JobError(
            f"No such file: {file_id!r}.", param=param, code="file_not_found", status=404 if file_id else 400
        )
    if file.purpose != Purpose.FINE_TUNE:
        raise JobError(f"{file_id} has purpose {file.purpose!r}; upload it with purpose 'fine-tune'.", param=param)
    if file.status != FileStatus.PROCESSED:
        detail = (
            "is still being validated"
            if file.is_pending
            else f"is not a valid training file ({file.status}): {file.status_details}"
        )
        raise JobError(
            f"{file_id} {detail}", param=param, code="invalid_file" if not file.is_pending else "file_not_ready"
        )
    return file


def _check_metadata(metadata) -> dict:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict) or len(metadata) > METADATA_MAX_KEYS:
        raise JobError(
            f"metadata must be an object of at most {METADATA_MAX_KEYS} string keys and values.", param="metadata"
        )
    for key, value in metadata.items():
        if not isinstance(value, str) or len(key) > 64 or len(value) > 512:
            raise JobError(
                f"metadata.{key}: keys up to 64 and values up to 512 characters, both strings.", param=f"metadata.{key}"
            )
    return metadata


def hyperparameters_of(data: dict) -> dict:
    """OpenAI accepts them top-level (legacy) or under method.supervised; Tunery reads both."""
    method = data.get("method") or {}
    if not isinstance(method, dict) or not isinstance(method.get("supervised") or {}, dict):
        raise JobError("method must be an object with an object `supervised`.", param="method")
    if method:
        if method.get("type", "supervised") != "supervised":
            raise JobError(
                f"method.type {method.get('type')!r} is not supported; use 'supervised'.", param="method.type"
            )
        nested = (method.get("supervised") or {}).get("hyperparameters")
        if nested is not None:
            return nested
    return data.get("hyperparameters") or {}


@dataclass
class JobRequest:
    """A create-job request that passed every check, with what it will cost."""

    resolved: ResolvedModel
    training_file: File
    validation_file: File | None
    suffix: str
    seed: int | None
    metadata: dict
    hyperparameters: dict
    estimate: JobEstimate


def check_request(organization, data: dict) -> JobRequest:
    """Everything about a new job that can be checked before it exists; the estimate (trained
    tokens, price, duration) is what the form and `POST /v1/fine_tuning/jobs/estimate` show."""
    if not isinstance(data, dict):
        raise JobError("The body must be a JSON object.")
    resolved = resolve_model(organization, data.get("model"))
    if resolved is None:
        raise JobError(
            f"The model {data.get('model')!r} does not exist or you do not have access to it.",
            param="model",
            code="model_not_found",
            status=404 if data.get("model") else 400,
        )
    if resolved.checkpoint:
        raise JobError("Continue training from a fine-tuned model, not from one of its checkpoints.", param="model")
    training_file = _training_file(organization, data.get("training_file"), "training_file")
    validation_file = (
        _training_file(organization, data["validation_file"], "validation_file")
        if data.get("validation_file")
        else None
    )
    suffix = data.get("suffix") or ""
    if suffix and (not isinstance(suffix, str) or not SUFFIX.match(suffix)):
        raise JobError("suffix: up to 40 lowercase letters, digits and dashes.", param="suffix")
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31):
        raise JobError("seed must be a whole number between 0 and 2147483647.", param="seed")
    hyperparameters = hyperparameters_of(data)
    if not isinstance(hyperparameters, dict):
        raise JobError("hyperparameters must be an object.", param="hyperparameters")
    n_train = examples_to_train(training_file.n_examples or 1, validation_file is not None)
    n_epochs = _check_hyperparameters(hyperparameters, n_train, resolved.base).n_epochs
    _check_target_modules(hyperparameters.get("lora_target_modules"), resolved.base)
    return JobRequest(
        resolved=resolved,
        training_file=training_file,
        validation_file=validation_file,
        suffix=suffix,
        seed=seed,
        metadata=_check_metadata(data.get("metadata")),
        hyperparameters=hyperparameters,
        estimate=estimate_job(resolved.base, training_file, n_epochs, n_train, training_throughput(resolved.base)),
    )


def estimate(organization, data: dict) -> tuple[JobEstimate, BillingRefusal | None]:
    """What `create_job` with `data` would train, cost and take, and the refusal it would give
    for want of balance or spend limit (None when it would be accepted). Starts nothing."""
    checked = check_request(organization, data)
    try:
        check_job_affordable(organization, checked.estimate.amount)
    except BillingRefusal as refusal:
        return checked.estimate, refusal
    return checked.estimate, None


def create_job(organization, data: dict) -> FineTuningJob:
    checked = check_request(organization, data)
    estimate = checked.estimate
    with transaction.atomic():
        # Locked until commit: a concurrent job of this organization waits here, then sees this hold.
        ledger.locked_account(organization)
        check_job_affordable(organization, estimate.amount)
        job = FineTuningJob.objects.create(
            organization=organization,
            base_model=checked.resolved.base,
            model=data["model"],
            parent=checked.resolved.job,
            training_file=checked.training_file,
            validation_file=checked.validation_file,
            suffix=checked.suffix,
            seed=checked.seed if checked.seed is not None else int.from_bytes(os.urandom(3), "big"),
            metadata=checked.metadata,
            hyperparameters=checked.hyperparameters,
            price=estimate.price,
            estimated_cost=estimate.amount,
        )
        if estimate.price is not None:
            ledger.hold_for_job(job, estimate.amount, estimate.trained_tokens)
        add_event(
            job,
            f"Created fine-tuning job {job.public_id}: about {estimate.trained_tokens:,} tokens to train, "
            f"estimated {display(estimate.amount)}.",
        )
        transaction.on_commit(lambda: enqueue_preparation(job))
    transaction.on_commit(lambda: after_spend(organization))
    return job


def _check_hyperparameters(raw: dict, n_train_examples: int, base):
    """Refuse bad values now, with the field named, rather than failing the job later; "auto"
    is resolved for the examples training will see, as the worker resolves it."""
    from workers.ml.errors import TrainingError
    from workers.ml.hyperparameters import resolve_hyperparameters

    try:
        return resolve_hyperparameters(raw, n_train_examples, base.spec())
    except TrainingError as error:
        raise JobError(error.message, param=error.param, code=error.code)


def _check_target_modules(targets, base) -> None:
    """A layer name the model does not have failed the job in the worker, minutes later (peft
    finds no module to wrap): refuse it now, from the catalogue's names."""
    if not isinstance(targets, list):
        return  # "auto" or absent: the catalogue's own list
    known = base.lora_layer_names()
    unknown = [name for name in targets if name not in known]
    if unknown:
        raise JobError(
            f"hyperparameters.lora_target_modules: {base.name} has no layer named {unknown[0]!r}; "
            f"choose from {', '.join(sorted(known))}.",
            param="hyperparameters.lora_target_modules",
            code="invalid_hyperparameter",
        )


def enqueue_preparation(job: FineTuningJob) -> None:
    from tunery.jobs.tasks import prepare_job

    prepare_job.delay(job.pk, job.organization_id)


def enqueue_training(job: FineTuningJob) -> None:
    from tunery.jobs.tasks import train_job

    # Routed by base model: each GPU class has its own queue and workers.
    train_job.apply_async((job.pk, job.organization_id), queue=job.base_model.gpu_queue)


def add_event(
    job: FineTuningJob, message: str, *, level: str = "info", type: str = "message", data: dict | None = None
) -> JobEvent:
    return JobEvent.objects.create(job=job, message=message, level=level, type=type, data=data)


def transition(job: FineTuningJob, from_statuses, to_status: str, **fields) -> bool:
    """Move a job only if it is still in one of `from_statuses` (a conditional UPDATE), so a
    redelivered task or a racing request never applies a change twice."""
    if isinstance(from_statuses, str):
        from_statuses = [from_statuses]
    with transaction.atomic():
        updated = FineTuningJob.objects.filter(pk=job.pk, status__in=from_statuses).update(status=to_status, **fields)
        if updated:
            job.refresh_from_db()
            if to_status in FINAL_STATUSES and ledger.settle_job(job, _chargeable_tokens(job)):
                transaction.on_commit(lambda: after_spend(job.organization))
    return bool(updated)


def _chargeable_tokens(job: FineTuningJob) -> int:
    """A failed job is charged nothing; a cancelled one what it trained before the stop."""
    return 0 if job.status == JobStatus.FAILED else job.trained_tokens or 0


def cancel(job: FineTuningJob) -> FineTuningJob:
    now = timezone.now()
    if transition(
        job, [JobStatus.VALIDATING_FILES, JobStatus.QUEUED, JobStatus.PAUSED], JobStatus.CANCELLED, finished_at=now
    ):
        add_event(job, "Job cancelled.")
    elif job.status == JobStatus.RUNNING:
        FineTuningJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(stop_request="cancel")
        add_event(job, "Cancelling: the worker stops at the next step and keeps the checkpoints.")
        job.refresh_from_db()
    elif job.status != JobStatus.CANCELLED:
        raise JobError(
            f"The job has already {job.status}; only active jobs can be cancelled.",
            param="fine_tuning_job_id",
            code="invalid_state",
            status=409,
        )
    return job


def pause(job: FineTuningJob) -> FineTuningJob:
    if job.status == JobStatus.QUEUED and transition(job, JobStatus.QUEUED, JobStatus.PAUSED):
        add_event(job, "Job paused before it started.")
    elif job.status == JobStatus.RUNNING:
        FineTuningJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(stop_request="pause")
        add_event(job, "Pausing: the worker saves a checkpoint and stops.")
        job.refresh_from_db()
    elif job.status != JobStatus.PAUSED:
        raise JobError(
            f"Only queued or running jobs can be paused; this one is {job.status}.",
            param="fine_tuning_job_id",
            code="invalid_state",
            status=409,
        )
    return job


def resume(job: FineTuningJob) -> FineTuningJob:
    if not transition(job, JobStatus.PAUSED, JobStatus.QUEUED, stop_request=""):
        raise JobError(
            f"Only paused jobs can be resumed; this one is {job.status}.",
            param="fine_tuning_job_id",
            code="invalid_state",
            status=409,
        )
    add_event(job, "Job resumed: it continues from its last checkpoint.")
    transaction.on_commit(lambda: enqueue_training(job))
    return job


def requeue_stalled(now=None) -> list[FineTuningJob]:
    """The reaper: a running job whose heartbeat stopped lost its worker (killed, out of
    memory, machine gone). It is queued again and resumes from its last checkpoint, or fails
    with a plain reason after too many attempts."""
    now = now or timezone.now()
    cutoff = now - timezone.timedelta(seconds=settings.TUNERY_HEARTBEAT_TIMEOUT)
    handled = []
    for job in FineTuningJob.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff).select_related(
        "base_model"
    ):
        if job.attempts >= settings.TUNERY_MAX_ATTEMPTS:
            if transition(
                job,
                JobStatus.RUNNING,
                JobStatus.FAILED,
                finished_at=now,
                error={
                    "code": "worker_lost",
                    "message": f"The training worker stopped responding {job.attempts} times; the job was given up. "
                    "Its checkpoints are kept.",
                    "param": None,
                },
            ):
                add_event(job, job.error["message"], level="error")
                handled.append(job)
            continue
        if transition(job, JobStatus.RUNNING, JobStatus.QUEUED, heartbeat_at=None):
            add_event(
                job,
                f"The worker stopped responding at step {job.step}; the job was queued again and resumes from "
                "its last checkpoint.",
                level="warn",
            )
            enqueue_training(job)
            handled.append(job)
    return handled


def touch_heartbeat(job: FineTuningJob) -> str:
    """Proof of life; returns the stop request (if any) so one query serves both."""
    FineTuningJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    return FineTuningJob.objects.filter(pk=job.pk).values_list("stop_request", flat=True).first() or ""
