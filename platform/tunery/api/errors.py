"""Errors in OpenAI's shape: {"error": {"message", "type", "param", "code"}}.

The official `openai` client picks its exception class from the HTTP status and shows
`message`; `param` names the offending field (dotted for nested ones).
"""

import logging

import kombu.exceptions
import redis.exceptions
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    429: "rate_limit_error",
    503: "service_unavailable_error",
}

logger = logging.getLogger(__name__)

# A backing service that is down or restarting (docs/operations.md, "Faults"): the request can
# be retried as it is, so it is a 503 with Retry-After, not a 500. Connections are re-made on the
# next request (the database pool checks each connection, redis-py reconnects), nothing restarts.
UNAVAILABLE = {
    "the database": (OperationalError, InterfaceError),
    "the cache": (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError),
    "the task queue": (kombu.exceptions.OperationalError,),
}
RETRY_AFTER_SECONDS = 5


def unavailable_service(exc: BaseException | None) -> str | None:
    """The backing service `exc` says is down ("the database"), or None for any other error."""
    return next((name for name, kinds in UNAVAILABLE.items() if isinstance(exc, kinds)), None)


def unavailable_message(service: str) -> str:
    return f"Tunery is briefly unavailable ({service} cannot be reached). Retry in a few seconds."


class ApiError(exceptions.APIException):
    """An API error with a stable `code` and, when a field is at fault, its `param`."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 400,
        code: str | None = None,
        param: str | None = None,
        type: str | None = None,
    ):
        super().__init__(message, code)
        self.status_code = status_code
        self.param = param
        self.error_code = code
        self.error_type = type  # when OpenAI uses its own, e.g. "insufficient_quota"


class RefusedRequest(Exception):
    """A workflow (a `services.py`) refusing a request: `message` is for the user, `param`
    names the field. Web views show it; the API answers it through the handler below."""

    def __init__(self, message: str, *, param: str | None = None, code: str = "invalid_value", status: int = 400):
        super().__init__(message)
        self.message, self.param, self.code, self.status = message, param, code, status


class PayloadTooLarge(ApiError):
    def __init__(self, limit: int):
        super().__init__(
            f"Request body is larger than the {limit // 1024} KiB limit.", status_code=413, code="request_too_large"
        )


def error_body(
    message: str, status_code: int, *, code: str | None = None, param: str | None = None, type: str | None = None
) -> dict:
    default_type = "server_error" if status_code >= 500 else "invalid_request_error"
    error_type = type or ERROR_TYPES.get(status_code, default_type)
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def json_error(message: str, status_code: int, **kwargs) -> JsonResponse:
    return JsonResponse(error_body(message, status_code, **kwargs), status=status_code)


def _first_validation_error(detail, path: str = "") -> tuple[str | None, str]:
    """The first (param, message) of a DRF validation error, with a dotted param path."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub = path if key == "non_field_errors" else (f"{path}.{key}" if path else str(key))
            return _first_validation_error(value, sub)
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                return _first_validation_error(value, f"{path}[{index}]" if isinstance(value, dict) else path)
            return path or None, str(value)
    return path or None, str(detail)


def openai_exception_handler(exc, context) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if str(exc) else None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) if str(exc) else None)
    elif isinstance(exc, RequestDataTooBig):
        exc = ApiError(str(exc), status_code=413, code="request_too_large")
    elif isinstance(exc, RefusedRequest):
        exc = ApiError(exc.message, status_code=exc.status, code=exc.code, param=exc.param)
    elif service := unavailable_service(exc):
        logger.warning("%s is unavailable: %s", service, exc)
        exc = ApiError(
            unavailable_message(service),
            status_code=503,
            code="service_unavailable",
        )
        exc.wait = RETRY_AFTER_SECONDS

    if isinstance(exc, ApiError):
        body = error_body(str(exc.detail), exc.status_code, code=exc.error_code, param=exc.param, type=exc.error_type)
    elif isinstance(exc, exceptions.ValidationError):
        param, message = _first_validation_error(exc.detail)
        body = error_body(f"{param}: {message}" if param else message, 400, param=param, code="invalid_value")
        exc.status_code = 400
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else None
        body = error_body(str(exc.detail), exc.status_code, code=code)
    else:
        return None  # a real bug: Django's handler500 answers with a JSON 500, no traceback

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    return Response(body, status=exc.status_code, headers=headers)
