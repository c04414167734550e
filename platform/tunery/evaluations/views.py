from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from tunery.api.errors import RefusedRequest
from tunery.evaluations import services
from tunery.evaluations.forms import EvaluationForm
from tunery.evaluations.models import EvaluationRun
from tunery.evaluations.presentation import chart_data, metric_rows
from tunery.orgs.access import member_required
from tunery.orgs.roles import Scope
from tunery.orgs.tenancy import get_for_member, scoped


def _list_page(request, form, status: int = 200):
    runs = scoped(EvaluationRun, request.organization).select_related("base_model", "test_file")[:100]
    return render(request, "evaluations/list.html", {"runs": runs, "form": form}, status=status)


@member_required()
def evaluation_list(request):
    initial = {"models": request.GET.getlist("model"), "test_file": request.GET.get("test_file")}
    return _list_page(request, EvaluationForm(organization=request.organization, initial=initial))


@member_required(Scope.FINE_TUNE)
@require_POST
def create(request):
    form = EvaluationForm(request.POST, organization=request.organization)
    if form.is_valid():
        try:
            run = services.create_run(request.organization, form.request_body(), created_by=str(request.user))
        except RefusedRequest as error:  # mixed base models, or more than the balance allows
            field = (error.param or "").split("[")[0]
            form.add_error(field if field in form.fields and error.status != 402 else None, error.message)
        else:
            messages.success(request, f"Started {run.public_id}.")
            return redirect("evaluations:detail", run.public_id)
    return _list_page(request, form, status=400)


@member_required()
def detail(request, evaluation_id: str):
    run = get_for_member(request, EvaluationRun, evaluation_id)
    if request.htmx:  # the progress poll: once the run ends, reload to show its results
        if run.is_active:
            return render(request, "evaluations/_live.html", {"run": run})
        return HttpResponseClientRefresh()
    return render(
        request,
        "evaluations/detail.html",
        {
            "run": run,
            "rows": metric_rows(run.results) if run.results else [],
            "chart": chart_data(run.results) if run.results else None,
            "can_write": Scope.FINE_TUNE in request.membership.scopes,
        },
    )


@member_required(Scope.FINE_TUNE)
@require_POST
def cancel(request, evaluation_id: str):
    run = get_for_member(request, EvaluationRun, evaluation_id)
    try:
        services.cancel(run)
    except services.EvaluationError as error:
        messages.error(request, error.message)
    return redirect("evaluations:detail", run.public_id)
