"""Evaluation workflows: check a request, estimate and hold its cost, queue it on the base
model's GPU queue; cancel; end it (a conditional state change that settles billing once); and
find runs whose worker stopped responding."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tunery.api.errors import RefusedRequest
from tunery.billing import ledger
from tunery.billing.limits import after_spend, check_affordable
from tunery.billing.models import EntryKind, Price
from tunery.billing.money import cost
from tunery.billing.prices import current_price
from tunery.evaluations.models import EvaluationRun, EvaluationStatus
from tunery.files.models import File, Purpose
from tunery.files.models import Status as FileStatus
from tunery.jobs.models import BaseModel
from tunery.jobs.naming import ResolvedModel, resolve_model
from tunery.orgs.tenancy import scoped

MAX_MODELS = 8
DEFAULT_MAX_EXAMPLES = 200
MAX_EXAMPLES = 1000
# Generated tokens per reference answer token in the estimate: answers may run on a little
# (the worker stops each answer a few tokens past the longest reference).
ANSWER_MARGIN = Decimal("1.25")


class EvaluationError(RefusedRequest):
    """A request about an evaluation that cannot be honoured."""


def run_cost(price: Price | None, prompt_tokens: int, completion_tokens: int) -> Decimal:
    """What reading `prompt_tokens` and generating `completion_tokens` costs at inference prices
    (an unpriced base model is free, as for inference)."""
    if price is None:
        return Decimal(0)
    return cost(prompt_tokens, price.input_per_million) + cost(completion_tokens, price.output_per_million)


@dataclass
class EvaluationEstimate:
    n_examples: int
    prompt_tokens: int  # every model together
    completion_tokens: int
    price: Price | None

    @property
    def amount(self) -> Decimal:
        return run_cost(self.price, self.prompt_tokens, self.completion_tokens)


def estimate_run(base: BaseModel, test_file: File, n_models: int, max_examples: int) -> EvaluationEstimate:
    """Each model reads every prompt once and writes about one answer per example; the file's
    inspection counted its tokens and, of them, the answer tokens."""
    stats = (test_file.report or {}).get("stats", {})
    n_file = test_file.n_examples or 1
    n = min(max_examples, n_file)
    total = int(stats.get("total_tokens") or 0) * n // n_file
    answers = int(stats.get("trained_tokens_per_epoch") or 0) * n // n_file
    completion = int(answers * ANSWER_MARGIN) + 4 * n
    return EvaluationEstimate(n, n_models * (total - answers), n_models * completion, current_price(base))


@dataclass
class EvaluationRequest:
    """A create-evaluation request that passed every check, with what it will cost."""

    test_file: File
    names: list[str]
    resolved: list[ResolvedModel]
    max_examples: int
    estimate: EvaluationEstimate

    @property
    def base(self) -> BaseModel:
        return self.resolved[0].base


def model_not_found(name, param: str) -> EvaluationError:
    """The same answer for a model that does not exist and another organization's (as the gateway)."""
    return EvaluationError(
        f"The model `{name}` does not exist or you do not have access to it.",
        param=param,
        code="model_not_found",
        status=404,
    )


def _test_file(organization, file_id) -> File:
    file = scoped(File, organization).filter(public_id=file_id).first() if isinstance(file_id, str) else None
    if file is None:
        raise EvaluationError(
            f"No such file: {file_id!r}.", param="test_file", code="file_not_found", status=404 if file_id else 400
        )
    if file.purpose != Purpose.FINE_TUNE:
        raise EvaluationError(
            f"{file_id} has purpose {file.purpose!r}; upload the test file with purpose 'fine-tune'.", param="test_file"
        )
    if file.status != FileStatus.PROCESSED:
        if file.is_pending:
            raise EvaluationError(f"{file_id} is still being validated.", param="test_file", code="file_not_ready")
        raise EvaluationError(
            f"{file_id} is not a valid test file ({file.status}): {file.status_details}",
            param="test_file",
            code="invalid_file",
        )
    return file


def _models(organization, names) -> tuple[list[str], list[ResolvedModel]]:
    if not isinstance(names, list) or not names:
        raise EvaluationError(
            "models must be a list of model names: base models, fine-tuned models or checkpoints.", param="models"
        )
    if len(names) > MAX_MODELS:
        raise EvaluationError(f"At most {MAX_MODELS} models per evaluation.", param="models")
    resolved = []
    for i, name in enumerate(names):
        if name in names[:i]:
            raise EvaluationError(f"{name} is listed twice.", param=f"models[{i}]")
        model = resolve_model(organization, name)
        if model is None:
            raise model_not_found(name, f"models[{i}]")
        if not model.base.enabled:
            raise EvaluationError(
                f"The base model of {name} ({model.base.name}) is not available.",
                param=f"models[{i}]",
                code="model_not_available",
            )
        resolved.append(model)
    bases = sorted({model.base.name for model in resolved})
    if len(bases) > 1:
        raise EvaluationError(
            f"All models of an evaluation must share one base model, so that they run on one loaded copy; "
            f"these come from {', '.join(bases)}. Start one evaluation per base model.",
            param="models",
            code="mixed_base_models",
        )
    return names, resolved


def _max_examples(value) -> int:
    if value is None:
        return DEFAULT_MAX_EXAMPLES
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_EXAMPLES:
        raise EvaluationError(f"max_examples must be a whole number from 1 to {MAX_EXAMPLES}.", param="max_examples")
    return value


def check_request(organization, data) -> EvaluationRequest:
    if not isinstance(data, dict):
        raise EvaluationError("The body must be a JSON object.")
    test_file = _test_file(organization, data.get("test_file"))
    names, resolved = _models(organization, data.get("models"))
    max_examples = _max_examples(data.get("max_examples"))
    estimate = estimate_run(resolved[0].base, test_file, len(names), max_examples)
    return EvaluationRequest(test_file, names, resolved, max_examples, estimate)


def create_run(organization, data, created_by: str = "") -> EvaluationRun:
    """Check, hold the estimate from the balance (402 when it cannot be covered), then queue."""
    checked = check_request(organization, data)
    estimate = checked.estimate
    with transaction.atomic():
        # Locked until commit, so two requests cannot both spend the same balance.
        ledger.locked_account(organization)
        check_affordable(
            organization,
            estimate.amount,
            "This evaluation",
            "evaluate fewer models or fewer examples (max_examples)",
            "max_examples",
        )
        run = EvaluationRun.objects.create(
            organization=organization,
            test_file=checked.test_file,
            model_names=checked.names,
            base_model=checked.base,
            max_examples=checked.max_examples,
            price=estimate.price,
            estimated_cost=estimate.amount,
            created_by=created_by[:200],
        )
        if estimate.amount > 0:
            run.held_entry = ledger.hold(
                organization,
                estimate.amount,
                estimate.prompt_tokens + estimate.completion_tokens,
                f"Hold for evaluation {run.public_id}: {len(checked.names)} models on up to "
                f"{estimate.n_examples:,} examples",
            )
            run.save(update_fields=["held_entry"])
        transaction.on_commit(lambda: enqueue(run))
    transaction.on_commit(lambda: after_spend(organization))
    return run


def enqueue(run: EvaluationRun) -> None:
    from tunery.evaluations.tasks import run_evaluation

    # On the GPU queue of the models' base: its workers hold that model class.
    run_evaluation.apply_async((run.pk, run.organization_id), queue=run.base_model.gpu_queue)


def finish(run: EvaluationRun, from_statuses, to_status: str, **fields) -> bool:
    """Move a run only if it is still in one of `from_statuses` (a conditional UPDATE). A final
    state releases the hold and charges `run.cost` (set by the same update) in the same
    transaction, so a redelivered task or a racing cancel never settles twice."""
    if isinstance(from_statuses, str):
        from_statuses = [from_statuses]
    now = timezone.now()
    with transaction.atomic():
        updated = EvaluationRun.objects.filter(pk=run.pk, status__in=from_statuses).update(
            status=to_status, finished_at=now, **fields
        )
        if not updated:
            return False
        run.refresh_from_db()
        charge = ledger.settle(
            run.organization,
            run.held_entry,
            EntryKind.EVALUATION_CHARGE,
            run.cost or Decimal(0),
            run.prompt_tokens + run.completion_tokens,
            f"Evaluation {run.public_id} ({run.status}): {len(run.model_names)} models, "
            f"{run.prompt_tokens:,} prompt + {run.completion_tokens:,} completion tokens",
        )
        if charge is not None:
            EvaluationRun.objects.filter(pk=run.pk).update(charge_entry=charge)
            run.charge_entry = charge
        transaction.on_commit(lambda: after_spend(run.organization))
    return True


def fail(run: EvaluationRun, code: str, message: str, param: str | None = None) -> bool:
    """Failed runs are charged nothing."""
    return finish(
        run,
        [EvaluationStatus.QUEUED, EvaluationStatus.RUNNING],
        EvaluationStatus.FAILED,
        error={"code": code, "message": message, "param": param},
        cost=Decimal(0),
    )


def cancel(run: EvaluationRun) -> EvaluationRun:
    """A queued run ends now; a running one at the worker's next batch (charged for the tokens
    it used until then)."""
    if finish(run, EvaluationStatus.QUEUED, EvaluationStatus.CANCELLED, cost=Decimal(0)):
        return run
    if run.status == EvaluationStatus.RUNNING:
        EvaluationRun.objects.filter(pk=run.pk, status=EvaluationStatus.RUNNING).update(stop_requested=True)
        run.refresh_from_db()
    elif run.status != EvaluationStatus.CANCELLED:
        raise EvaluationError(
            f"The evaluation has already {run.status}; only queued or running evaluations can be cancelled.",
            param="evaluation_id",
            code="invalid_state",
            status=409,
        )
    return run


def touch(run: EvaluationRun, progress: float) -> bool:
    """Proof of life and progress in one write; returns whether a stop was requested."""
    EvaluationRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now(), progress=progress)
    return bool(EvaluationRun.objects.filter(pk=run.pk).values_list("stop_requested", flat=True).first())


def requeue_stalled(now=None) -> list[EvaluationRun]:
    """The reaper: a running evaluation whose heartbeat stopped lost its worker. It starts over
    on another worker, or fails after too many attempts (charged nothing)."""
    now = now or timezone.now()
    cutoff = now - timezone.timedelta(seconds=settings.TUNERY_HEARTBEAT_TIMEOUT)
    handled = []
    stalled = EvaluationRun.objects.filter(status=EvaluationStatus.RUNNING, heartbeat_at__lt=cutoff)
    for run in stalled.select_related("base_model", "organization"):
        if run.attempts >= settings.TUNERY_MAX_ATTEMPTS:
            ended = fail(
                run,
                "worker_lost",
                f"The evaluation worker stopped responding {run.attempts} times; the evaluation was given up "
                "and nothing was charged.",
            )
        else:
            ended = EvaluationRun.objects.filter(pk=run.pk, status=EvaluationStatus.RUNNING).update(
                status=EvaluationStatus.QUEUED, heartbeat_at=None, progress=0.0
            )
            if ended:
                enqueue(run)
        if ended:
            handled.append(run)
    return handled
