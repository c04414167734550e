from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tunery.api.errors import ApiError
from tunery.files import services
from tunery.files.forms import MappingForm, TransformForm
from tunery.files.models import File, storage_used
from tunery.files.uploads import accepts_uploads, check_upload_size, limit_uploads
from tunery.orgs.access import member_required
from tunery.orgs.roles import Scope
from tunery.orgs.tenancy import get_for_member, scoped


@member_required()
def file_list(request):
    files = scoped(File, request.organization).select_related("parent")
    used = storage_used(request.organization)
    return render(
        request,
        "files/list.html",
        {"files": files, "storage_used": used, "upload_limit": settings.TUNERY_MAX_UPLOAD_BYTES},
    )


@accepts_uploads
@csrf_exempt  # the CSRF check reads the body: the size-limited handlers must be set first
@require_POST
def upload(request):
    """The drag-and-drop target: answers JSON so the page can show progress and errors."""
    try:
        limit_uploads(request)
    except ApiError as error:
        return JsonResponse({"error": str(error.detail)}, status=error.status_code)
    return _upload_refusal(request) or _checked_upload(request)


def _upload_refusal(request) -> JsonResponse | None:
    """What member_required and csrf_protect answer with a page (a login redirect, a 403 page),
    as JSON: the page's script reads the answer as JSON and shows `error`."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "You are signed out: sign in again, then upload."}, status=401)
    if request.membership is None:
        return JsonResponse({"error": "Create an organization before uploading."}, status=403)
    if Scope.FINE_TUNE not in request.membership.scopes:
        return JsonResponse({"error": "Viewers cannot change anything: ask an admin for the member role."}, status=403)
    if CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}) is not None:
        return JsonResponse(
            {"error": "This page is out of date (its security token no longer matches): reload it and upload again."},
            status=403,
        )
    return None


def _checked_upload(request):
    try:
        uploaded = request.FILES.get("file")
        check_upload_size(request)
        if uploaded is None:
            return JsonResponse({"error": "Choose a file to upload."}, status=400)
        file = services.create_upload(request.organization, uploaded, "fine-tune")
    except ApiError as error:
        return JsonResponse({"error": str(error.detail)}, status=error.status_code)
    except services.FileError as error:
        return JsonResponse({"error": error.message}, status=error.status)
    next_url = reverse("files:detail", args=[file.public_id])
    if request.POST.get("wizard"):
        next_url = reverse("files:wizard") + f"?file={file.public_id}"
    return JsonResponse({"id": file.public_id, "url": next_url})


def _detail_context(request, file: File, mapping_form=None, transform_form=None) -> dict:
    report = file.report or {}
    table = report.get("preview") or {}
    columns = table.get("columns")
    return {
        "file": file,
        "report": report,
        "versions": scoped(File, request.organization).filter(parent=file),
        "mapping_form": mapping_form
        or (MappingForm(columns=columns, suggested=table.get("suggested_mapping")) if columns else None),
        "transform_form": transform_form or TransformForm(),
        "can_write": Scope.FINE_TUNE in request.membership.scopes,
    }


def _poll(*files: File) -> HttpResponse:
    """htmx polls a page while its files are being processed: nothing to swap until they are
    all done, then a full refresh shows the results and the next actions."""
    response = HttpResponse(status=204)
    if not any(f.is_pending for f in files):
        response["HX-Refresh"] = "true"
    return response


@member_required()
def detail(request, file_id: str):
    file = get_for_member(request, File, file_id)
    if request.htmx:
        return _poll(file)
    return render(request, "files/detail.html", _detail_context(request, file))


@member_required(Scope.FINE_TUNE)
@require_POST
def convert(request, file_id: str):
    file = get_for_member(request, File, file_id)
    columns = ((file.report or {}).get("preview") or {}).get("columns") or []
    form = MappingForm(request.POST, columns=columns)
    if not form.is_valid():
        return render(request, "files/detail.html", _detail_context(request, file, mapping_form=form), status=400)
    mapping = {role: form.cleaned_data[role] or None for role in ("system", "user", "assistant")}
    try:
        target = services.request_conversion(file, mapping, form.cleaned_data["system_prompt"] or None)
    except services.FileError as error:
        form.add_error(None, error.message)
        return render(
            request, "files/detail.html", _detail_context(request, file, mapping_form=form), status=error.status
        )
    messages.success(request, f"Converting {file.filename} to chat JSONL.")
    return redirect(_next(request, target))


@member_required(Scope.FINE_TUNE)
@require_POST
def transform(request, file_id: str):
    file = get_for_member(request, File, file_id)
    form = TransformForm(request.POST)
    if not form.is_valid():
        return render(request, "files/detail.html", _detail_context(request, file, transform_form=form), status=400)
    try:
        targets = services.request_transform(file, **form.operation())
    except services.FileError as error:
        form.add_error(None, error.message)
        return render(
            request, "files/detail.html", _detail_context(request, file, transform_form=form), status=error.status
        )
    messages.success(request, "Preparing " + " and ".join(t.filename for t in targets) + ".")
    return redirect(_next(request, targets[0]))


def _next(request, file: File) -> str:
    if request.POST.get("wizard"):
        return reverse("files:wizard") + f"?file={file.public_id}"
    return reverse("files:detail", args=[file.public_id])


@member_required(Scope.FINE_TUNE)
@require_POST
def delete(request, file_id: str):
    file = get_for_member(request, File, file_id)
    services.delete_file(file)
    messages.success(request, f"Deleted {file.filename}.")
    return redirect("files:list")


@member_required()
def download(request, file_id: str):
    file = get_for_member(request, File, file_id)
    if not file.content:
        raise Http404("This file has no content yet.")
    return FileResponse(file.content.open("rb"), as_attachment=True, filename=file.filename)


@member_required()
def wizard(request):
    """From a table to a validated train + validation pair, one step at a time:
    1 upload → 2 map columns → 3 check and split → 4 ready."""
    file_id = request.GET.get("file")
    if not file_id:
        return render(request, "files/wizard.html", {"step": 1})
    file = get_for_member(request, File, file_id)
    siblings = (
        list(scoped(File, request.organization).filter(parent=file.parent, derivation=file.derivation).order_by("pk"))
        if file.parent_id
        else [file]
    )
    if file.is_tabular:
        step = 2
    elif len(siblings) == 2 and "split" in file.derivation:
        step = 4
    else:
        step = 3
    if request.htmx:
        return _poll(*siblings)
    context = {"step": step, "pair": siblings if step == 4 else None, **_detail_context(request, file)}
    return render(request, "files/wizard.html", context)
