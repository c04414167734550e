from django.shortcuts import render

from tunery.inference.usage import parse_days, usage_report
from tunery.jobs.models import BaseModel, Checkpoint, FineTuningJob, JobStatus
from tunery.orgs.access import member_required
from tunery.orgs.roles import Scope
from tunery.orgs.tenancy import scoped


def playground_models(organization) -> list[tuple[str, list[str]]]:
    """The model picker: base models, fine-tuned models, and checkpoints, grouped."""
    jobs = scoped(FineTuningJob, organization).filter(model_deleted=False).select_related("base_model", "organization")
    tuned = [j.fine_tuned_model for j in jobs if j.status == JobStatus.SUCCEEDED]
    checkpoints = [
        c.model_name
        for c in Checkpoint.objects.filter(job__in=jobs).select_related("job__base_model", "job__organization")
    ]
    return [
        ("Fine-tuned", tuned),
        ("Base", list(BaseModel.objects.filter(enabled=True).values_list("name", flat=True))),
        ("Checkpoints", checkpoints),
    ]


@member_required()
def playground(request):
    return render(
        request,
        "inference/playground.html",
        {
            "model_groups": playground_models(request.organization),
            "selected": request.GET.get("model", ""),
            "can_run": Scope.INFERENCE in request.membership.scopes,
            "base_url": request.build_absolute_uri("/v1"),
        },
    )


@member_required()
def usage(request):
    try:
        days, refusal = parse_days(request.GET.get("days", "30")), None
    except ValueError as error:  # a hand-edited address: say so, and show the default period
        days, refusal = 30, str(error)
    return render(
        request,
        "inference/usage.html",
        {"report": usage_report(request.organization, days), "days": days, "refusal": refusal},
        status=400 if refusal else 200,
    )
