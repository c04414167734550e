from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tunery.api.errors import RefusedRequest
from tunery.billing.ledger import job_charge
from tunery.jobs import services
from tunery.jobs.artifacts import adapter_zip_response
from tunery.jobs.forms import JobForm
from tunery.jobs.models import FineTuningJob
from tunery.orgs.access import member_required
from tunery.orgs.roles import Scope
from tunery.orgs.tenancy import get_for_member, scoped


def _jobs(request):
    return scoped(FineTuningJob, request.organization).select_related("base_model", "training_file", "organization")


@member_required()
def job_list(request):
    return render(request, "jobs/list.html", {"jobs": _jobs(request)})


@member_required(Scope.FINE_TUNE)
def create(request):
    form = JobForm(
        request.POST or None,
        organization=request.organization,
        initial={
            "training_file": request.GET.get("training_file"),
            "validation_file": request.GET.get("validation_file"),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = services.create_job(request.organization, form.request_body())
        except RefusedRequest as error:  # bad values, or more than the balance or spend limit allow
            field = (error.param or "").split(".")[-1]
            form.add_error(field if field in form.fields and error.status != 402 else None, error.message)
        else:
            messages.success(request, f"Started {job.public_id}.")
            return redirect("jobs:detail", job.public_id)
    return render(request, "jobs/create.html", {"form": form}, status=400 if form.errors else 200)


@member_required(Scope.FINE_TUNE)
@require_POST
def estimate(request):
    """The create form's live estimate (htmx): tokens, price and duration, or why not."""
    form = JobForm(request.POST, organization=request.organization)
    context = {}
    if form.is_valid():
        try:
            context["estimate"], refusal = services.estimate(request.organization, form.request_body())
        except RefusedRequest as error:  # a bad value: there is nothing to estimate
            refusal = error
        context["refusal"] = refusal.message if refusal else None
    return render(request, "jobs/_estimate.html", context)


@member_required()
def detail(request, job_id: str):
    job = get_for_member(request, FineTuningJob, job_id)
    if request.htmx:
        return render(
            request,
            "jobs/_live.html",
            {"job": job, "events": job.events.filter(type="message")[:50], "charged": job_charge(job)},
        )
    return render(
        request,
        "jobs/detail.html",
        {
            "job": job,
            "events": job.events.filter(type="message")[:50],
            "checkpoints": job.checkpoints.all(),
            "can_write": Scope.FINE_TUNE in request.membership.scopes,
            "charged": job_charge(job),
        },
    )


def metrics_series(job: FineTuningJob) -> dict:
    """Train and validation curves from the stored metrics events (so charts survive a refresh)."""
    train, valid = [], []
    for data in job.events.filter(type="metrics").order_by("created_at", "pk").values_list("data", flat=True):
        if "train_loss" in data:
            train.append(
                {"x": data["step"], "y": data["train_loss"], "accuracy": data.get("train_mean_token_accuracy")}
            )
        if "valid_loss" in data:
            valid.append(
                {
                    "x": data["step"],
                    "y": data["valid_loss"],
                    "accuracy": data.get("valid_mean_token_accuracy"),
                    "answers": data.get("valid_answer_score"),
                    "answer_metric": data.get("valid_answer_metric"),
                }
            )
    return {
        "id": job.public_id,
        "label": job.suffix or job.short_id,
        "status": job.status,
        "train": train,
        "validation": valid,
        "step": job.step,
        "total_steps": job.total_steps,
        "progress": job.progress,
        "eta_seconds": job.eta_seconds,
    }


@member_required()
def metrics(request, job_id: str):
    return JsonResponse(metrics_series(get_for_member(request, FineTuningJob, job_id)))


@member_required(Scope.FINE_TUNE)
@require_POST
def control(request, job_id: str, action: str):
    job = get_for_member(request, FineTuningJob, job_id)
    try:
        getattr(services, action)(job)
    except services.JobError as error:
        messages.error(request, error.message)
    return redirect("jobs:detail", job.public_id)


@member_required()
def download_adapter(request, job_id: str):
    job = get_for_member(request, FineTuningJob, job_id)
    return adapter_zip_response(job)


@member_required()
def compare(request):
    ids = [i for i in request.GET.getlist("job") if i]
    jobs = [get_for_member(request, FineTuningJob, i) for i in ids]
    return render(
        request,
        "jobs/compare.html",
        {
            "jobs": jobs,
            "series": [metrics_series(j) for j in jobs],
            "all_jobs": _jobs(request)[:50],
        },
    )
