"""How the OpenAPI schema describes Tunery's authentication."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension


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
