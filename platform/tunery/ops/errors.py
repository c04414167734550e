"""Error pages: JSON in OpenAI's shape under /v1/, a friendly page elsewhere; never a traceback."""

import re

from django.shortcuts import render

from tunery.api.errors import json_error

DJANGO_NOT_FOUND = re.compile(r"^No \w+ matches the given query\.$")


def _is_api(request) -> bool:
    return request.path.startswith("/v1/") or request.path.startswith("/api/")


def _respond(request, status: int, message: str, code: str):
    if _is_api(request):
        return json_error(message, status, code=code)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def bad_request(request, exception=None):
    return _respond(request, 400, "The request could not be understood.", "bad_request")


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else "You do not have permission to do this."
    return _respond(request, 403, message, "permission_denied")


def not_found(request, exception=None):
    if _is_api(request):
        return json_error(f"Unknown request URL: {request.method} {request.path}.", 404, code="unknown_url")
    # Our views raise Http404 with a sentence for the user; the URL resolver's is technical, and
    # get_object_or_404's names a Django model ("No Membership matches the given query.").
    said = exception.args[0] if exception and exception.args and isinstance(exception.args[0], str) else ""
    if not said.endswith(".") or DJANGO_NOT_FOUND.match(said):
        said = "This page does not exist, or you do not have access to it."
    message = said
    return render(request, "error.html", {"status": 404, "message": message}, status=404)


def server_error(request):
    return _respond(request, 500, "Something went wrong on our side; it has been logged.", "server_error")
