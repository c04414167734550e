"""OpenAI's fine-tuning objects, plus Tunery's progress and evaluation fields."""

from rest_framework import serializers

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


class Hyperparameters(serializers.Serializer):
    n_epochs = serializers.JSONField(required=False, help_text='a whole number or "auto"')
    batch_size = serializers.JSONField(required=False, help_text='a whole number or "auto"')
    learning_rate_multiplier = serializers.JSONField(required=False, help_text='a number or "auto"')
    lora_r = serializers.IntegerField(required=False)
    lora_alpha = serializers.FloatField(required=False)
    lora_dropout = serializers.FloatField(required=False)
    lora_target_modules = serializers.ListField(child=serializers.CharField(), required=False)
    max_seq_len = serializers.IntegerField(required=False)
    warmup_ratio = serializers.FloatField(required=False)
    lr_scheduler = serializers.CharField(required=False)
    early_stopping_patience = serializers.IntegerField(required=False)
    eval_interval = serializers.JSONField(required=False)
    checkpoint_interval = serializers.JSONField(required=False)


class CreateJobRequest(serializers.Serializer):
    """For the schema: the body is read as JSON and checked by tunery.jobs.services."""

    model = serializers.CharField()
    training_file = serializers.CharField()
    validation_file = serializers.CharField(required=False, allow_null=True)
    suffix = serializers.CharField(required=False, allow_null=True)
    seed = serializers.IntegerField(required=False, allow_null=True)
    metadata = serializers.DictField(child=serializers.CharField(), required=False, allow_null=True)
    hyperparameters = Hyperparameters(required=False)
    method = serializers.JSONField(required=False)
