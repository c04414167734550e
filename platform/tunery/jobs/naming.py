"""Resolving the `model` of a request: a base model, a fine-tuned model or one of its checkpoints."""

import re
from dataclasses import dataclass

from tunery.jobs.models import BaseModel, Checkpoint, FineTuningJob, JobStatus

CHECKPOINT_SUFFIX = re.compile(r"^(?P<model>ft:.+):ckpt-step-(?P<step>\d+)$")


@dataclass
class ResolvedModel:
    base: BaseModel
    job: FineTuningJob | None = None  # the fine-tuned model, if one was named
    checkpoint: Checkpoint | None = None

    @property
    def adapter_path(self) -> str | None:
        if self.checkpoint:
            return self.checkpoint.path
        return self.job.adapter_path if self.job else None


def resolve_model(organization, name: str) -> ResolvedModel | None:
    """None when the name is unknown to this organization (another's model included)."""
    if not isinstance(name, str) or not name:
        return None
    if not name.startswith("ft:"):
        base = BaseModel.objects.filter(name=name, enabled=True).first()
        return ResolvedModel(base) if base else None
    match = CHECKPOINT_SUFFIX.match(name)
    model_name = match["model"] if match else name
    short_id = model_name.rsplit(":", 1)[-1]
    job = (
        FineTuningJob.objects.select_related("base_model", "organization")
        .filter(organization=organization, public_id__startswith=f"ftjob-{short_id}", model_deleted=False)
        .first()
    )
    if job is None or job.model_name != model_name:
        return None
    if match:  # checkpoints are usable while the job still runs
        checkpoint = job.checkpoints.filter(step=int(match["step"])).first()
        return ResolvedModel(job.base_model, job, checkpoint) if checkpoint else None
    return ResolvedModel(job.base_model, job) if job.status == JobStatus.SUCCEEDED else None
