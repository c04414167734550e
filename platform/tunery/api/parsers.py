"""The one JSON parser of the API (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES and every
OrganizationAPIView): a size limit, and only JSON that every later step can handle.

Python's `json` module is lenient where the rest of the stack is not: it accepts `NaN` and
`Infinity` (and turns `1e400` into infinity), which httpx and PostgreSQL then refuse; it
accepts `"\\ud800"`, a lone surrogate that cannot be encoded as UTF-8 when it is stored or
forwarded; and it recurses once per level of nesting, so a body of ten thousand `[` ends in a
RecursionError. Each of these answers 400 here, naming the field, instead of a 500 later.
"""

import json
import math
import re

from django.conf import settings
from rest_framework.parsers import JSONParser

from tunery.api.errors import ApiError, PayloadTooLarge

# Deeper than any real request (a chat message with a tool's JSON schema is under 20 levels).
MAX_DEPTH = 64
LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads pairs the valid ones up


class LimitedJSONParser(JSONParser):
    """JSON bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE: DRF reads the raw stream and would
    otherwise skip Django's own limit."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge(limit)
        non_finite = []

        def number(text: str) -> float:
            value = float(text)
            if not math.isfinite(value):
                non_finite.append(text)
            return value

        def constant(name: str) -> float:  # NaN, Infinity, -Infinity
            non_finite.append(name)
            return float(name)

        try:
            data = json.loads(raw, parse_float=number, parse_constant=constant)
        except RecursionError:
            raise ApiError(f"The JSON body is nested more than {MAX_DEPTH} levels deep.", code="invalid_json")
        except (ValueError, UnicodeDecodeError) as error:
            raise ApiError(f"We could not parse the JSON body of your request: {error}", code="invalid_json")
        # The walk costs time in Python, so it runs only when the raw text says it may find something.
        if non_finite or b"\\u" in raw or raw.count(b"[") + raw.count(b"{") > MAX_DEPTH:
            check_json_value(data)
        return data


def check_json_value(data) -> None:
    """Raise a 400 naming the first value (dotted path) that is nested too deep, is not a finite
    number, or holds a lone surrogate. Iterative, so it cannot overflow the stack itself."""
    stack = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        problem = None
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                problem = f"is nested more than {MAX_DEPTH} levels deep."
            elif isinstance(value, dict):
                for key in value:
                    if LONE_SURROGATE.search(key):
                        problem = f"has a key with an unpaired surrogate ({_escaped(key)}), which is not valid Unicode."
                        break
                children = [(child, f"{path}.{key}" if path else key) for key, child in value.items()]
                stack.extend((child, sub, depth + 1) for child, sub in reversed(children))
            else:
                stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in reversed(list(enumerate(value))))
        elif isinstance(value, str) and LONE_SURROGATE.search(value):
            problem = f"contains an unpaired surrogate ({_escaped(value)}), which is not valid Unicode."
        elif isinstance(value, float) and not math.isfinite(value):
            problem = "must be a finite number; NaN and Infinity are not JSON numbers."
        if problem:
            raise ApiError(
                f"{path}: {problem}" if path else f"The body {problem}", param=path or None, code="invalid_json"
            )


def _escaped(text: str) -> str:
    surrogate = LONE_SURROGATE.search(text).group()
    return f"\\u{ord(surrogate):04x}"
