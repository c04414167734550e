"""Streaming multipart uploads with a size limit: large files go to a temporary file on disk
chunk by chunk and are refused as soon as they pass the limit."""

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.template.defaultfilters import filesizeformat

from tunery.api.errors import ApiError

# A multipart body carries the file and a few small form fields (purpose, wizard).
FORM_FIELDS_ROOM = 64 * 1024


def upload_body_limit() -> int:
    """The largest request body an upload route accepts (the ASGI body guard refuses more
    before reading it)."""
    return settings.TUNERY_MAX_UPLOAD_BYTES + FORM_FIELDS_ROOM


def accepts_uploads(view):
    """Marks a view (a function, or an API view class) whose requests may carry a file up to
    the upload limit; the ASGI body guard holds every other route to DATA_UPLOAD_MAX_MEMORY_SIZE."""
    view.accepts_uploads = True
    return view


class UploadTooLarge(ApiError):
    def __init__(self, limit: int):
        super().__init__(
            f"The file is larger than the {filesizeformat(limit)} upload limit.",
            status_code=413,
            code="file_too_large",
            param="file",
        )


class SizeLimitedUploadHandler(TemporaryFileUploadHandler):
    """Stops at the limit and marks the request; the rest of the body is read and dropped,
    so the client gets a clean 413 rather than a reset connection."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=False)
        return super().receive_data_chunk(raw_data, start)


def limit_uploads(django_request) -> None:
    """Refuse a body declared too large before reading it; stream the rest with the limit
    enforced. Call `check_upload_size` once the body has been parsed."""
    limit = settings.TUNERY_MAX_UPLOAD_BYTES
    declared = django_request.META.get("CONTENT_LENGTH")
    if declared and declared.isdigit() and int(declared) > upload_body_limit():
        raise UploadTooLarge(limit)
    django_request.upload_handlers = [SizeLimitedUploadHandler(django_request, limit)]


def check_upload_size(django_request) -> None:
    if getattr(django_request, "upload_too_large", False):
        raise UploadTooLarge(settings.TUNERY_MAX_UPLOAD_BYTES)
