"""The one place that scopes data to an organization (docs/architecture.md, "Tenancy").

Every tenant-owned model subclasses `TenantModel`. Web views fetch through
`get_for_member`; API views subclass `tunery.api.views.OrganizationAPIView`, whose querysets
are always derived from the request's organization. Another tenant's object is a 404, exactly
like a missing one.
"""

from django.db import models
from django.http import Http404, HttpRequest

from tunery.orgs.models import Organization


class TenantModel(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


def scoped(model: type[models.Model], organization: Organization | None) -> models.QuerySet:
    """The rows of `model` that `organization` owns; none at all without an organization."""
    if organization is None:
        return model._default_manager.none()
    return model._default_manager.filter(organization=organization)


def get_for_member(request: HttpRequest, model: type[models.Model], public_id: str, **filters):
    """Fetch an object of the request's active organization by public id, or 404."""
    try:
        return scoped(model, getattr(request, "organization", None)).get(public_id=public_id, **filters)
    except model.DoesNotExist:
        raise Http404(f"No such {model._meta.verbose_name}.")
