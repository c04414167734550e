"""Streaming multipart uploads with a size limit: large files go to a temporary file on disk
chunk by chunk and are refused as soon as they pass the limit."""
from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from tunery.api.errors import ApiError


class UploadTooLarge(ApiError):
    def __init__(self, limit: int):
        super().__init__(
            f"The file is larger than the {limit // (1024 * 1024)} MB upload limit.", status_code=413, code="file_too_large", param="file"
        )


class SizeLimitedUploadHandler(TemporaryFileUploadHandler):
    def __init__(self, request=None, limit: int | None = None):
        super().__init__(request)
        self.limit = limit or settings.TUNERY_MAX_UPLOAD_BYTES

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            raise UploadTooLarge(self.limit)
        return super().receive_data_chunk(raw_data, start)


def limit_uploads(django_request) -> None:
    """Refuse an oversized body before reading it; stream the rest with the limit enforced."""
    limit = settings.TUNERY_MAX_UPLOAD_BYTES
    declared = django_request.META.get("CONTENT_LENGTH")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:  # room for form fields
        raise UploadTooLarge(limit)
    django_request.upload_handlers = [SizeLimitedUploadHandler(django_request, limit)]
