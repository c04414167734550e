"""The base of every API view: the organization comes from the credentials, and querysets
are derived from it. A subclass cannot set `queryset` (that would skip the scoping)."""

from django.http import Http404
from rest_framework.generics import GenericAPIView

from tunery.api.errors import ApiError
from tunery.api.parsers import LimitedJSONParser
from tunery.orgs.roles import Scope
from tunery.orgs.tenancy import scoped


class OrganizationAPIView(GenericAPIView):
    model = None  # the tenant-owned model this view serves, if any
    object_name = None  # what a 404 calls it ("fine-tuning job"); the model's verbose name if unset
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

    def get_object(self):
        """A missing id and another organization's id answer the same 404, in OpenAI's words
        (DRF's would name the Django model: "No FineTuningJob matches the given query.")."""
        try:
            return super().get_object()
        except Http404:
            name = self.object_name or self.model._meta.verbose_name
            object_id = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
            raise ApiError(f"No {name} with id '{object_id}'.", status_code=404, code="not_found")
