"""How the OpenAPI schema describes Tunery: its authentication, its error responses, its fields."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "tunery.apikeys.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An organization's API key: `Authorization: Bearer tun_…`",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "tunery.apikeys.authentication.SessionMemberAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The web session of a signed-in member.",
        }


class AutoOrField(OpenApiSerializerFieldExtension):
    """`AutoOr(inner)`: the inner field's schema, or the string "auto", or null."""

    target_class = "tunery.api.serializers.AutoOr"

    def map_serializer_field(self, auto_schema, direction):
        inner = auto_schema._map_serializer_field(self.target.inner, direction)
        return {"oneOf": [inner, {"type": "string", "enum": ["auto"]}], "nullable": True}


class ErrorDetail(serializers.Serializer):
    message = serializers.CharField()
    type = serializers.CharField()
    param = serializers.CharField(allow_null=True)
    code = serializers.CharField(allow_null=True)


class Error(serializers.Serializer):
    """OpenAI's error shape (tunery.api.errors)."""

    error = ErrorDetail()


# What any API operation may answer besides its success (tunery.api.errors; 503 when the
# engine or a backing service is unavailable). Documented once here for every operation, so the
# schema tells clients the truth and the fuzz test can hold the API to it.
ERROR_RESPONSES = {
    400: "The request is malformed or a field is invalid; `param` names it.",
    401: "Missing, malformed, revoked or expired credentials.",
    402: "The balance or spend limit cannot cover it.",
    403: "The key or role lacks the scope needed.",
    404: "No such object in this organization (another organization's answers the same).",
    405: "The method is not allowed here.",
    409: "The object is not in a state that allows it.",
    413: "The body is larger than the limit.",
    415: "The body is not of a media type the operation reads.",
    429: "Rate limit reached; Retry-After says when to retry.",
    503: "The inference engine or a backing service is unavailable; retry.",
}


class TuneryAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus the error responses every operation can give."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status, description in ERROR_RESPONSES.items():
            if str(status) not in responses:
                response = self._get_response_for_code(Error, str(status), direction=direction)
                responses[str(status)] = {**response, "description": description}
        return responses


def page_of(serializer_class) -> serializers.Serializer:
    """The schema of a cursor page of `serializer_class` objects (tunery.api.pagination)."""
    from drf_spectacular.utils import inline_serializer

    name = serializer_class.__name__.removesuffix("Serializer")
    return inline_serializer(
        f"{name}Page",
        {
            "object": serializers.CharField(),
            "data": serializer_class(many=True),
            "has_more": serializers.BooleanField(),
            "first_id": serializers.CharField(allow_null=True),
            "last_id": serializers.CharField(allow_null=True),
        },
    )
