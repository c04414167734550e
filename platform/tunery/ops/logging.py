"""One structured log line per request (JSON through the root handler)."""

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
