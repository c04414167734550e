"""The base of every API view: the organization comes from the credentials, and querysets
are derived from it. A subclass cannot set `queryset` (that would skip the scoping)."""

from rest_framework.generics import GenericAPIView

from tunery.api.parsers import LimitedJSONParser
from tunery.orgs.roles import Scope
from tunery.orgs.tenancy import scoped


class OrganizationAPIView(GenericAPIView):
    model = None  # the tenant-owned model this view serves, if any
    lookup_field = "public_id"
    read_scope = Scope.READ
    write_scope = Scope.ADMIN
    parser_classes = [LimitedJSONParser]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("queryset") is not None:
            raise TypeError(f"{cls.__name__} sets `queryset`; set `model` so rows are scoped to the organization.")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authenticates: request.user is a Principal
        request.organization = request.user.organization
        request._request.organization = request.organization

    def get_queryset(self):
        return scoped(self.model, self.request.organization)
