"""An ASGI middleware in front of Django that refuses a request body before reading it.

Django's ASGI handler reads the whole body, spooling it to a temporary file, before any
middleware or view runs: neither authentication nor the upload limit could stop a client from
making the server receive and store as much as it liked. This guard decides from the headers:

- a Content-Length beyond the route's limit answers 413 at once (the upload limit on routes
  marked `files.uploads.accepts_uploads`, DATA_UPLOAD_MAX_MEMORY_SIZE everywhere else);
- a body over CHECK_CREDENTIALS_ABOVE, or chunked, sent to a route that needs credentials
  (the API, the upload target) without valid ones answers 401 at once;
- a chunked body that grows past the limit is cut off with 413 as soon as it does.

Its answers close the connection, since the rest of the body is never read. Everything else
passes through untouched; the views still check everything themselves.
"""

import json
from importlib import import_module

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import close_old_connections
from django.http.cookie import parse_cookie
from django.urls import Resolver404, resolve

from tunery.api.errors import ApiError, PayloadTooLarge, error_body
from tunery.apikeys.authentication import InvalidApiKey, key_for_header
from tunery.files.uploads import UploadTooLarge, upload_body_limit

# Small bodies go straight to Django, which authenticates them as usual; a larger one is
# worth a database look-up first.
CHECK_CREDENTIALS_ABOVE = 64 * 1024

NOT_AUTHENTICATED = ApiError("Authentication credentials were not provided.", status_code=401, code="not_authenticated")
NOT_SIGNED_IN = ApiError("You are not signed in: log in again, then upload the file.", status_code=401)


class BodyGuard:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])  # names are lower-case bytes; a repeated one keeps its last value
        declared = _content_length(headers)
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        if declared is None and not chunked:
            return await self.app(scope, receive, send)  # no body

        path = scope["path"]
        route = _Route(path)
        if declared is not None and declared > route.limit:
            return await _refuse(send, path, route.too_large())
        if route.needs_credentials and (chunked or declared > CHECK_CREDENTIALS_ABOVE):
            refusal = await sync_to_async(_credentials_refusal)(path, headers)
            if refusal is not None:
                return await _refuse(send, path, refusal)
        if not chunked:
            return await self.app(scope, receive, send)  # the server delivers exactly Content-Length bytes

        received = 0
        refused = False

        async def receive_within_limit():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > route.limit:
                    refused = True
                    await _refuse(send, path, route.too_large())
                    return {"type": "http.disconnect"}  # Django stops reading and answers nothing
            return message

        async def send_unless_refused(message):
            if not refused:
                await send(message)

        await self.app(scope, receive_within_limit, send_unless_refused)


class _Route:
    """What the guard needs to know of the view a path resolves to."""

    def __init__(self, path: str):
        try:
            view = resolve(path).func
        except Resolver404:
            view = None  # Django answers 404 once the (small) body has arrived
        self.accepts_uploads = getattr(view, "accepts_uploads", False) or getattr(
            getattr(view, "view_class", None), "accepts_uploads", False
        )
        self.limit = upload_body_limit() if self.accepts_uploads else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        self.needs_credentials = path.startswith("/v1/") or self.accepts_uploads

    def too_large(self) -> ApiError:
        if self.accepts_uploads:
            return UploadTooLarge(settings.TUNERY_MAX_UPLOAD_BYTES)
        return PayloadTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def _content_length(headers: dict) -> int | None:
    try:
        return int(headers[b"content-length"])
    except (KeyError, ValueError):
        return None  # the server itself refuses a malformed one


def _credentials_refusal(path: str, headers: dict) -> ApiError | None:
    """None when the request carries a valid API key (API routes) or a signed-in session."""
    try:
        authorization = headers.get(b"authorization")
        if authorization is not None and path.startswith("/v1/"):
            key_for_header(authorization.decode("latin-1"))
            return None
        session_key = parse_cookie(headers.get(b"cookie", b"").decode("latin-1")).get(settings.SESSION_COOKIE_NAME)
        if session_key and SESSION_KEY in import_module(settings.SESSION_ENGINE).SessionStore(session_key):
            return None
        return NOT_AUTHENTICATED if path.startswith("/v1/") else NOT_SIGNED_IN
    except InvalidApiKey as error:
        return ApiError(str(error.detail), status_code=401, code="invalid_api_key")
    finally:
        close_old_connections()  # this runs outside Django's request cycle, which would close it


async def _refuse(send, path: str, error: ApiError) -> None:
    if path.startswith("/v1/"):
        body = error_body(str(error.detail), error.status_code, code=error.error_code, param=error.param)
    else:
        body = {"error": str(error.detail)}  # what the web upload target's script shows
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"connection", b"close"),  # the rest of the body is never read
    ]
    if error.status_code == 401 and path.startswith("/v1/"):
        headers.append((b"www-authenticate", b'Bearer realm="api"'))
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
