from django import forms
from django.db.models import Prefetch, Q

from tunery.evaluations.services import DEFAULT_MAX_EXAMPLES, MAX_EXAMPLES
from tunery.files.models import File, Purpose
from tunery.files.models import Status as FileStatus
from tunery.jobs.models import BaseModel, Checkpoint, FineTuningJob, JobStatus
from tunery.orgs.tenancy import scoped

RECENT_JOBS = 50


class EvaluationForm(forms.Form):
    test_file = forms.ChoiceField(help_text="Chats or prompt/completion pairs ending in the expected answer.")
    models = forms.MultipleChoiceField(help_text="Tick models of one base model.")
    max_examples = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_EXAMPLES,
        initial=DEFAULT_MAX_EXAMPLES,
        help_text="The first N examples of the file.",
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        files = scoped(File, organization).filter(purpose=Purpose.FINE_TUNE, status=FileStatus.PROCESSED)
        self.fields["test_file"].choices = [
            (f.public_id, f"{f.filename} — {f.n_examples} examples ({f.public_id})") for f in files
        ]
        # Per base model: the base itself, then each fine-tuned model with its checkpoints.
        self.groups: dict[str, list[dict]] = {
            b.name: [{"name": b.name, "label": "base model", "kind": "base"}]
            for b in BaseModel.objects.filter(enabled=True)
        }
        jobs = (
            scoped(FineTuningJob, organization)
            .filter(Q(status=JobStatus.SUCCEEDED) | Q(checkpoints__isnull=False), model_deleted=False)
            .select_related("base_model", "organization")
            .prefetch_related(Prefetch("checkpoints", queryset=Checkpoint.objects.order_by("step")))
            .distinct()[:RECENT_JOBS]
        )
        for job in jobs:
            options = self.groups.setdefault(job.base_model.name, [])
            if job.status == JobStatus.SUCCEEDED:
                options.append({"name": job.model_name, "label": f"fine-tuned ({job.public_id})", "kind": "fine_tuned"})
            options += [
                {"name": c.model_name, "label": f"checkpoint, step {c.step}", "kind": "checkpoint"}
                for c in job.checkpoints.all()
            ]
        self.fields["models"].choices = [(o["name"], o["name"]) for options in self.groups.values() for o in options]

    def selected(self) -> list[str]:
        """The ticked models, from the submitted or the initial data (a link may preselect one)."""
        if self.is_bound:
            return self.data.getlist("models")
        return list(self.initial.get("models") or [])

    def request_body(self) -> dict:
        data = self.cleaned_data
        body = {"test_file": data["test_file"], "models": data["models"]}
        if data["max_examples"]:
            body["max_examples"] = data["max_examples"]
        return body
