from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from tunery.api.pagination import cursor_page
from tunery.api.schema import page_of
from tunery.api.serializers import RejectUnknownFields
from tunery.api.views import OrganizationAPIView
from tunery.orgs.models import Membership
from tunery.orgs.serializers import MemberSerializer, OrganizationSerializer


class OrganizationUpdate(RejectUnknownFields, OrganizationSerializer):
    """PATCH refuses fields it cannot change (`slug`, `id`...) rather than ignoring them."""


class CurrentOrganization(OrganizationAPIView):
    """The organization the credentials belong to; admins can rename it."""

    serializer_class = OrganizationSerializer

    def get(self, request):
        return Response(OrganizationSerializer(request.organization).data)

    @extend_schema(request=OrganizationUpdate)
    def patch(self, request):
        serializer = OrganizationUpdate(request.organization, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)


class MemberList(OrganizationAPIView):
    model = Membership
    serializer_class = MemberSerializer

    @extend_schema(responses={200: page_of(MemberSerializer)})
    def get(self, request):
        queryset = self.get_queryset().select_related("user")
        return cursor_page(request, queryset, lambda m: MemberSerializer(m).data)
