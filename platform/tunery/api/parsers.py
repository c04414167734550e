import json

from django.conf import settings
from rest_framework.parsers import JSONParser

from tunery.api.errors import ApiError, PayloadTooLarge


class LimitedJSONParser(JSONParser):
    """JSON bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE: DRF reads the raw stream and would
    otherwise skip Django's own limit."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge(limit)
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise ApiError(f"We could not parse the JSON body of your request: {error}", code="invalid_json")
