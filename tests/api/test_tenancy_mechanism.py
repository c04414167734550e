"""The tenancy mechanism itself: forgetting it must be hard."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tunery.api.views import OrganizationAPIView
from tunery.apikeys.models import ApiKey
from tunery.orgs.tenancy import scoped

# API views that serve no organization's data.
PUBLIC_API_VIEWS = {"SpectacularAPIView", "SpectacularSwaggerView", "SpectacularSwaggerSplitView"}


def _api_patterns(resolver=None, prefix=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_patterns(pattern, route)
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
            yield route, pattern.callback.cls


def test_every_api_view_derives_its_data_from_the_organization():
    offenders = [
        f"{route} → {cls.__name__}"
        for route, cls in _api_patterns()
        if not issubclass(cls, OrganizationAPIView) and cls.__name__ not in PUBLIC_API_VIEWS
    ]
    assert offenders == []


def test_a_view_cannot_bypass_scoping_with_a_queryset():
    with pytest.raises(TypeError, match="set `model`"):
        type("Leaky", (OrganizationAPIView,), {"queryset": ApiKey.objects.all()})


def test_scoped_without_an_organization_is_empty(org_a):
    ApiKey.issue(org_a, name="k", scopes=["read"])
    assert scoped(ApiKey, None).count() == 0
    assert scoped(ApiKey, org_a).count() == 1
