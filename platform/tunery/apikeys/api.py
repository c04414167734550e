from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from tunery.api.pagination import cursor_page
from tunery.api.schema import page_of
from tunery.api.views import OrganizationAPIView
from tunery.apikeys.models import ApiKey
from tunery.apikeys.serializers import ApiKeySerializer, CreatedApiKeySerializer
from tunery.orgs.roles import Scope


class ApiKeyList(OrganizationAPIView):
    """The organization's API keys (admin scope to create)."""

    model = ApiKey
    serializer_class = ApiKeySerializer
    read_scope = Scope.ADMIN

    @extend_schema(operation_id="list_api_keys", responses={200: page_of(ApiKeySerializer)})
    def get(self, request):
        return cursor_page(request, self.get_queryset(), lambda key: ApiKeySerializer(key).data)

    @extend_schema(responses={201: CreatedApiKeySerializer})
    def post(self, request):
        serializer = ApiKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, secret = ApiKey.issue(
            request.organization,
            name=serializer.validated_data["name"],
            scopes=serializer.validated_data["scopes"],
            created_by=request.user.user,
            expires_at=serializer.validated_data.get("expires_at"),
        )
        return Response(CreatedApiKeySerializer(key, context={"secret": secret}).data, status=status.HTTP_201_CREATED)


class ApiKeyDetail(OrganizationAPIView):
    """Retrieve or revoke one key. Revoking is immediate and cannot be undone."""

    model = ApiKey
    serializer_class = ApiKeySerializer
    read_scope = Scope.ADMIN
    lookup_url_kwarg = "key_id"
    object_name = "API key"

    @extend_schema(operation_id="retrieve_api_key")
    def get(self, request, key_id: str):
        return Response(ApiKeySerializer(self.get_object()).data)

    def delete(self, request, key_id: str):
        key = self.get_object()
        key.revoke()
        return Response({"id": key.public_id, "object": "organization.api_key.deleted", "deleted": True})
