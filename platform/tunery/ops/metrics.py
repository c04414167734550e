"""/metrics: django-prometheus's text for Prometheus, to the scraper and to staff only.

Request counts, latencies and database figures tell an outsider how busy the service is and
which routes exist, so the page needs `Authorization: Bearer <TUNERY_METRICS_TOKEN>` (what a
Prometheus scrape config sends with `authorization: {credentials: ...}`) or a signed-in staff
member. Anyone else gets the 404 of a page that does not exist; a wrong token gets 401, so a
misconfigured scraper says so."""

import hmac

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView


@never_cache
def metrics(request):
    token = settings.TUNERY_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return ExportToDjangoView(request)
    if header.startswith("Bearer "):
        response = HttpResponse("Wrong metrics token.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if request.user.is_authenticated and request.user.is_staff:
        return ExportToDjangoView(request)
    raise Http404("This page does not exist, or you do not have access to it.")
