"""One structured log line per request (JSON through the root handler), and client errors
kept to one line."""

import logging
import time
import uuid

logger = logging.getLogger("tunery.request")


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = request.META.get("HTTP_X_REQUEST_ID") or uuid.uuid4().hex
        started = time.perf_counter()
        response = self.get_response(request)
        organization = getattr(request, "organization", None)
        logger.info(
            "request",
            extra={
                "request_id": request.id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "organization": getattr(organization, "public_id", None),
            },
        )
        response["X-Request-Id"] = request.id
        return response


class ClientErrorsWithoutTraceback(logging.Filter):
    """Drops the traceback from a record about a 4xx response. Django attaches the exception to
    its "Forbidden (Permission denied)" and "Bad request" warnings, so every viewer refused a
    page wrote a full traceback; a refusal is the client's mistake, not ours, and deserves one
    warning line (status and path are in it). 5xx records keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
