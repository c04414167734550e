from django.utils import timezone
from rest_framework import serializers

from tunery.api.serializers import RejectUnknownFields, UnixTimestampField
from tunery.apikeys.models import ApiKey
from tunery.orgs.roles import Scope


class ApiKeySerializer(RejectUnknownFields, serializers.ModelSerializer):
    """An organization's API key; the secret itself is shown only once, when it is created."""

    id = serializers.CharField(source="public_id", read_only=True)
    object = serializers.SerializerMethodField()
    redacted_value = serializers.CharField(source="redacted", read_only=True)
    status = serializers.CharField(read_only=True)
    created_at = serializers.SerializerMethodField()
    expires_at = UnixTimestampField(required=False, allow_null=True)
    last_used_at = serializers.SerializerMethodField()
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.values), allow_empty=False)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "object",
            "name",
            "redacted_value",
            "scopes",
            "status",
            "created_at",
            "expires_at",
            "last_used_at",
        ]

    def get_object(self, key) -> str:
        return "organization.api_key"

    def get_created_at(self, key) -> int:
        return int(key.created_at.timestamp())

    def get_last_used_at(self, key) -> int | None:
        return int(key.last_used_at.timestamp()) if key.last_used_at else None

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("must be in the future")
        return value


class CreatedApiKeySerializer(ApiKeySerializer):
    """Only the response to a create carries the secret, once."""

    value = serializers.SerializerMethodField()

    class Meta(ApiKeySerializer.Meta):
        fields = ApiKeySerializer.Meta.fields + ["value"]

    def get_value(self, key) -> str:
        return self.context["secret"]
