"""Error pages: JSON in OpenAI's shape under /v1/, a friendly page elsewhere; never a traceback."""

import re
import sys

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from tunery.api.errors import RETRY_AFTER_SECONDS, json_error, unavailable_message, unavailable_service

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
    # Django calls this inside the `except` block that caught the exception, from a view or a
    # middleware alike (under ASGI too: asgiref re-raises it in the thread that builds the
    # response), so sys.exc_info() says whether it was a backing service that is down.
    outage = _outage(request, sys.exc_info()[1])
    if outage is not None:
        return outage
    return _respond(request, 500, "Something went wrong on our side; it has been logged.", "server_error")


def _outage(request, exc: BaseException | None) -> HttpResponse | None:
    """A 503 with Retry-After while the database or Redis is down (JSON under the API), instead of
    a 500. The page is rendered without the request, so that no context processor runs: they
    read the user's memberships from the database that is down. Django logs it, with the
    exception, as for any 5xx."""
    service = unavailable_service(exc)
    if service is None:
        return None
    if _is_api(request):
        response = json_error(unavailable_message(service), 503, code="service_unavailable")
    else:
        page = render_to_string("503.html", {"service": service, "retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
