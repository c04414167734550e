"""OpenAI's fine-tuning objects, plus Tunery's progress and evaluation fields."""

from rest_framework import serializers

from tunery.api.serializers import AutoOr, StrictCharField, StrictSerializer
from tunery.jobs.holdout import evaluation_caveat
from tunery.jobs.models import Checkpoint, FineTuningJob, JobEvent

OPENAI_HYPERPARAMETERS = ("n_epochs", "batch_size", "learning_rate_multiplier")


def _ts(value) -> int | None:
    return int(value.timestamp()) if value else None


def job_data(job: FineTuningJob) -> dict:
    resolved = job.resolved_hyperparameters or {}
    hyperparameters = {k: resolved.get(k, job.hyperparameters.get(k, "auto")) for k in OPENAI_HYPERPARAMETERS}
    tunery_hyperparameters = {k: v for k, v in resolved.items() if k not in OPENAI_HYPERPARAMETERS} or {
        k: v for k, v in job.hyperparameters.items() if k not in OPENAI_HYPERPARAMETERS
    }
    return {
        "id": job.public_id,
        "object": "fine_tuning.job",
        "created_at": _ts(job.created_at),
        "error": job.error,
        "fine_tuned_model": job.fine_tuned_model,
        "finished_at": _ts(job.finished_at),
        "hyperparameters": hyperparameters,
        "model": job.model,
        "organization_id": job.organization.public_id,
        "result_files": [job.result_file.public_id] if job.result_file_id else [],
        "seed": job.seed,
        "status": job.status,
        "trained_tokens": job.trained_tokens if job.status == "succeeded" else None,
        "training_file": job.training_file.public_id,
        "validation_file": job.validation_file.public_id if job.validation_file_id else None,
        "estimated_finish": _ts(job.estimated_finish),
        "integrations": [],
        "metadata": job.metadata or None,
        "user_provided_suffix": job.suffix or None,
        "method": {"type": "supervised", "supervised": {"hyperparameters": hyperparameters}},
        # Tunery's additions
        "base_model": job.base_model.name,
        "lora_hyperparameters": tunery_hyperparameters,
        "progress": {
            "step": job.step,
            "total_steps": job.total_steps,
            "fraction": round(job.progress, 4),
            "eta_seconds": job.eta_seconds,
        },
        # The step the fine-tuned model's weights come from: its best validation pass.
        "served_step": job.served_step,
        # validation_source: "validation_file" or "training_file" (held out of it: in-distribution)
        "evaluation": {**job.evaluation, "caveat": evaluation_caveat(job.evaluation)} if job.evaluation else None,
        "estimated_cost": str(job.estimated_cost) if job.estimated_cost is not None else None,
    }


def event_data(event: JobEvent) -> dict:
    return {
        "id": event.public_id,
        "object": "fine_tuning.job.event",
        "created_at": _ts(event.created_at),
        "level": event.level,
        "message": event.message,
        "data": event.data,
        "type": event.type,
    }


def checkpoint_data(checkpoint: Checkpoint) -> dict:
    return {
        "id": checkpoint.public_id,
        "object": "fine_tuning.job.checkpoint",
        "created_at": _ts(checkpoint.created_at),
        "fine_tuned_model_checkpoint": checkpoint.model_name,
        "fine_tuning_job_id": checkpoint.job.public_id,
        "metrics": checkpoint.metrics,
        "step_number": checkpoint.step,
    }


class Hyperparameters(StrictSerializer):
    """Every hyperparameter the resolver knows (workers.ml.hyperparameters.FIELDS; a test keeps
    the two lists equal). Types are checked here, ranges by the resolver."""

    n_epochs = AutoOr(serializers.IntegerField())
    batch_size = AutoOr(serializers.IntegerField())
    learning_rate_multiplier = AutoOr(serializers.FloatField())
    lora_r = AutoOr(serializers.IntegerField())
    lora_alpha = AutoOr(serializers.FloatField())
    lora_dropout = AutoOr(serializers.FloatField())
    lora_target_modules = AutoOr(
        serializers.ListField(child=StrictCharField(), allow_empty=False),
        help_text="layer names of the base model's blocks, e.g. q_proj, v_proj",
    )
    max_seq_len = AutoOr(serializers.IntegerField())
    warmup_ratio = AutoOr(serializers.FloatField())
    lr_scheduler = AutoOr(StrictCharField())
    early_stopping_patience = AutoOr(serializers.IntegerField())
    eval_interval = serializers.JSONField(required=False, help_text='steps, "epoch" or "auto"')
    checkpoint_interval = serializers.JSONField(required=False, help_text='steps, "epoch" or "auto"')
    gradient_accumulation_steps = AutoOr(serializers.IntegerField())
    weight_decay = AutoOr(serializers.FloatField())


class Supervised(StrictSerializer):
    hyperparameters = Hyperparameters(required=False)


class Method(StrictSerializer):
    type = serializers.ChoiceField(choices=["supervised"], required=False)
    supervised = Supervised(required=False)


class CreateJobRequest(StrictSerializer):
    """The body of `POST /v1/fine_tuning/jobs` and `/estimate`: its shape (fields and JSON
    types) is checked here; values against the organization's files and models by
    tunery.jobs.services, which the web form calls too."""

    model = StrictCharField()
    training_file = StrictCharField()
    validation_file = StrictCharField(required=False, allow_null=True, allow_blank=True)
    suffix = StrictCharField(required=False, allow_null=True, allow_blank=True)
    seed = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)
    metadata = serializers.DictField(child=StrictCharField(allow_blank=True), required=False, allow_null=True)
    hyperparameters = Hyperparameters(required=False)
    method = Method(required=False)

    @classmethod
    def check(cls, data) -> None:
        """Raise the first problem of `data` as a 400 naming the field (dotted when nested)."""
        if not isinstance(data, dict):
            raise serializers.ValidationError("The body must be a JSON object.")
        cls(data=data).is_valid(raise_exception=True)
