"""Tunery's evaluation object, and the create request as the schema documents it."""

from rest_framework import serializers

from tunery.evaluations.models import EvaluationRun
from tunery.evaluations.services import DEFAULT_MAX_EXAMPLES, MAX_EXAMPLES, MAX_MODELS


def _ts(value) -> int | None:
    return int(value.timestamp()) if value else None


def evaluation_data(run: EvaluationRun) -> dict:
    return {
        "id": run.public_id,
        "object": "evaluation",
        "created_at": _ts(run.created_at),
        "started_at": _ts(run.started_at),
        "finished_at": _ts(run.finished_at),
        "status": run.status,
        "progress": round(run.progress, 4),
        "test_file": run.test_file.public_id if run.test_file_id else None,
        "models": run.model_names,
        "base_model": run.base_model.name,
        "max_examples": run.max_examples,
        "currency": "usd",
        "estimated_cost": str(run.estimated_cost),
        # What was charged, once finished: prompt + completion tokens at the inference price.
        "cost": str(run.cost) if run.cost is not None else None,
        "usage": {
            "prompt_tokens": run.prompt_tokens,
            "completion_tokens": run.completion_tokens,
            "total_tokens": run.prompt_tokens + run.completion_tokens,
        },
        "error": run.error,
        # Per model, in the order of `models`: metrics, confidence (label answers), usage, cost,
        # training_cost (fine-tuned models), n_wrong and up to 50 wrong_examples.
        "results": run.results,
        "created_by": run.created_by or None,
    }


class CreateEvaluationRequest(serializers.Serializer):
    """For the schema: the body is read as JSON and checked by tunery.evaluations.services."""

    test_file = serializers.CharField(help_text="A processed file of this organization: chat or prompt/completion.")
    models = serializers.ListField(
        child=serializers.CharField(),
        max_length=MAX_MODELS,
        help_text="Base, fine-tuned (`ft:…`) or checkpoint (`…:ckpt-step-N`) names, all of one base model.",
    )
    max_examples = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_EXAMPLES,
        help_text=f"The first N examples of the file (default {DEFAULT_MAX_EXAMPLES}).",
    )
