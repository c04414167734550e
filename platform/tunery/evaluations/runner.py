"""What a GPU worker does with an evaluation: claim it, score its models with
`workers.ml.evaluation.evaluate_models` on one loaded base model, and store what each model
scored, used and cost, with the examples it got wrong."""

import logging
import socket
import time
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from tunery.billing.ledger import job_charge
from tunery.evaluations import services
from tunery.evaluations.models import EvaluationRun, EvaluationStatus
from tunery.files.storage import local_path
from tunery.jobs.naming import ResolvedModel, resolve_model

logger = logging.getLogger(__name__)

# A batch can take milliseconds on a GPU: progress, heartbeat and the stop flag share one
# throttled write.
WRITE_EVERY_SECONDS = 2.0
MAX_WRONG_STORED = 50  # wrong examples kept per model (the count is kept in full)
MAX_TEXT = 2000  # characters of each prompt message, reference and answer kept


class RunCallbacks:
    """Bridges the evaluation loop and the row: progress, heartbeat, cooperative cancel."""

    def __init__(self, run: EvaluationRun):
        self.run = run
        self.last_write = 0.0
        self.stop = False

    def progress(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last_write >= WRITE_EVERY_SECONDS:
            self.last_write = now
            self.stop = services.touch(self.run, round(fraction, 4))

    def should_stop(self) -> bool:
        return self.stop


def _adapter_key(index: int) -> str:
    """Model names have colons and dots, which adapter names may not."""
    return f"model_{index}"


def _resolve(run: EvaluationRun) -> list[ResolvedModel]:
    """The models again, as the organization may use them now (one may have been deleted)."""
    resolved = []
    for i, name in enumerate(run.model_names):
        model = resolve_model(run.organization, name)
        if model is None or model.base.pk != run.base_model_id:
            raise services.model_not_found(name, f"models[{i}]")
        resolved.append(model)
    return resolved


def run(run_id: int, organization_id: int) -> None:
    """queued → running → succeeded | failed | cancelled, claimed by a conditional update so a
    redelivered message does nothing twice."""
    from workers.ml.errors import TrainingError
    from workers.ml.evaluation import EvaluationStopped, ModelSetConfig, evaluate_models

    now = timezone.now()
    claimed = EvaluationRun.objects.filter(
        pk=run_id, organization_id=organization_id, status=EvaluationStatus.QUEUED
    ).update(
        status=EvaluationStatus.RUNNING,
        attempts=F("attempts") + 1,
        worker=socket.gethostname(),
        heartbeat_at=now,
        started_at=Coalesce("started_at", now),
        stop_requested=False,
    )
    if not claimed:
        return
    evaluation = EvaluationRun.objects.select_related("organization", "base_model", "test_file", "price").get(pk=run_id)
    callbacks = RunCallbacks(evaluation)
    try:
        resolved = _resolve(evaluation)
        if evaluation.test_file is None:
            raise services.EvaluationError("The test file was deleted.", param="test_file", code="file_not_found")
        models = {_adapter_key(i): Path(m.adapter_path) if m.adapter_path else None for i, m in enumerate(resolved)}
        with local_path(evaluation.test_file.content.name) as path:
            report = evaluate_models(
                ModelSetConfig(Path(path), max_examples=evaluation.max_examples),
                models,
                spec=evaluation.base_model.spec(),
                progress=callbacks.progress,
                should_stop=callbacks.should_stop,
            )
    except EvaluationStopped as stopped:
        services.finish(
            evaluation,
            EvaluationStatus.RUNNING,
            EvaluationStatus.CANCELLED,
            prompt_tokens=stopped.prompt_tokens,
            completion_tokens=stopped.completion_tokens,
            cost=services.run_cost(evaluation.price, stopped.prompt_tokens, stopped.completion_tokens),
        )
        return
    except (services.EvaluationError, TrainingError) as error:
        services.fail(evaluation, error.code, error.message, error.param)
        return
    except Exception:
        logger.exception("evaluation %s failed", evaluation.public_id)
        services.fail(
            evaluation, "internal_error", "The evaluation stopped because of an error on our side; nothing was charged."
        )
        return

    results = results_data(evaluation, report, resolved)
    services.finish(
        evaluation,
        EvaluationStatus.RUNNING,
        EvaluationStatus.SUCCEEDED,
        progress=1.0,
        results=results,
        prompt_tokens=sum(m["usage"]["prompt_tokens"] for m in results["models"]),
        completion_tokens=sum(m["usage"]["completion_tokens"] for m in results["models"]),
        cost=sum((Decimal(m["cost"]) for m in results["models"]), Decimal(0)),
    )


def _kind(model: ResolvedModel) -> str:
    return "checkpoint" if model.checkpoint else "fine_tuned" if model.job else "base"


def _clip(value):
    """Long texts shortened for storage, in prompts (messages or text), references and answers."""
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if isinstance(value, list):
        return [_clip(v) for v in value]
    if isinstance(value, dict):
        return {k: _clip(v) for k, v in value.items()}
    return value


def _rounded(probabilities: dict[str, float] | None) -> dict[str, float] | None:
    return {label: round(p, 4) for label, p in probabilities.items()} if probabilities else None


def example_data(answer) -> dict:
    return {
        "index": answer.index,
        "line": answer.line,
        "prompt": _clip(answer.prompt),
        "expected": _clip(answer.reference),
        "answer": _clip(answer.answer),
        "top_label": answer.top_label,
        "confidence": round(answer.confidence, 4) if answer.confidence is not None else None,
        "label_probabilities": _rounded(answer.label_probabilities),
    }


def results_data(evaluation: EvaluationRun, report, resolved: list[ResolvedModel]) -> dict:
    """JSON for the row: per model, in the order given, its metrics, tokens, cost (and for a
    fine-tuned model what training it cost), and the examples it got wrong."""
    models = []
    for i, (name, model) in enumerate(zip(evaluation.model_names, resolved, strict=True)):
        result = report.models[_adapter_key(i)]
        training = job_charge(model.job) if model.job else None
        wrong = result.wrong
        models.append(
            {
                "model": name,
                "kind": _kind(model),
                "fine_tuning_job": model.job.public_id if model.job else None,
                "metrics": asdict(result.scores),
                "answer_score": result.answer_score.value,
                "confidence": asdict(result.confidence) if result.confidence else None,
                "usage": {
                    "prompt_tokens": result.prompt_tokens,
                    "completion_tokens": result.completion_tokens,
                    "total_tokens": result.prompt_tokens + result.completion_tokens,
                },
                "cost": str(services.run_cost(evaluation.price, result.prompt_tokens, result.completion_tokens)),
                "training_cost": str(training) if training is not None else None,
                "seconds": round(result.seconds, 2),
                "n_correct": len(result.answers) - len(wrong),
                "n_wrong": len(wrong),
                "wrong_examples": [example_data(answer) for answer in wrong[:MAX_WRONG_STORED]],
            }
        )
    first = next(iter(report.models.values()))
    return {
        "n_examples": report.n_examples,
        "n_answered": report.n_answered,
        "answer_kind": report.answer_kind,
        "labels": report.labels,
        # The one number per model, as training judges answers: exact_match, json_field_accuracy or token_f1.
        "main_metric": first.answer_score.metric,
        "models": models,
        "elapsed_seconds": round(report.elapsed_seconds, 2),
    }
