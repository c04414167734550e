"""What the dashboard shows an organization: the getting-started checklist (upload → fine-tune
→ try it → API key, each ticked from what the organization really has) and its recent work."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from tunery.apikeys.models import ApiKey
from tunery.files.models import File, Purpose, Status
from tunery.inference.models import InferenceRequest
from tunery.jobs.models import ACTIVE_STATUSES, FineTuningJob, JobStatus
from tunery.orgs.models import Organization
from tunery.orgs.tenancy import scoped

RECENT = 5


@dataclass
class Step:
    key: str
    title: str
    hint: str
    url: str
    done: bool


def _url(name: str, **query) -> str:
    query = {k: v for k, v in query.items() if v}
    return reverse(name) + (f"?{urlencode(query)}" if query else "")


def onboarding_steps(organization: Organization) -> list[Step]:
    datasets = scoped(File, organization).filter(purpose=Purpose.FINE_TUNE)
    jobs = scoped(FineTuningJob, organization)
    ready = datasets.filter(status=Status.PROCESSED).values_list("public_id", flat=True).first()
    model = (
        jobs.filter(status=JobStatus.SUCCEEDED, model_deleted=False).values_list("fine_tuned_model", flat=True).first()
    )
    return [
        Step(
            "upload",
            "Upload a dataset",
            "Chat or prompt/completion JSONL, or a spreadsheet through the wizard.",
            _url("files:list"),
            datasets.exists(),
        ),
        Step(
            "fine-tune",
            "Start a fine-tune",
            "LoRA on an open base model; “auto” hyperparameters are a good start.",
            _url("jobs:create", training_file=ready),
            jobs.exists(),
        ),
        Step(
            "playground",
            "Try it in the playground",
            "Ask your model and the base model the same question.",
            _url("inference:playground", model=model),
            scoped(InferenceRequest, organization).exists(),
        ),
        Step(
            "api-key",
            "Get an API key",
            "Call your model from code with the openai client.",
            _url("apikeys:list"),
            scoped(ApiKey, organization).exists(),
        ),
    ]


def dashboard(organization: Organization) -> dict:
    steps = onboarding_steps(organization)
    jobs = scoped(FineTuningJob, organization).select_related("base_model")
    return {
        "steps": steps,
        "steps_done": sum(step.done for step in steps),
        "recent_jobs": jobs[:RECENT],
        "active_jobs": jobs.filter(status__in=ACTIVE_STATUSES).count(),
        "models": jobs.filter(status=JobStatus.SUCCEEDED, model_deleted=False).count(),
        "recent_files": scoped(File, organization).filter(purpose=Purpose.FINE_TUNE)[:RECENT],
        "n_files": scoped(File, organization).filter(purpose=Purpose.FINE_TUNE).count(),
    }
