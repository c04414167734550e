from datetime import timedelta

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.shortcuts import render
from django.utils import timezone

from tunery.apikeys.models import ApiKey
from tunery.orgs.models import Organization


@staff_member_required
def overview(request):
    """The operators' dashboard: how many tenants, who signed up lately."""
    users = get_user_model().objects
    week_ago = timezone.now() - timedelta(days=7)
    return render(
        request,
        "ops/overview.html",
        {
            "organization_count": Organization.objects.count(),
            "user_count": users.count(),
            "signups_this_week": users.filter(date_joined__gte=week_ago).count(),
            "active_key_count": ApiKey.objects.filter(revoked_at=None).count(),
            "recent_users": users.order_by("-date_joined").prefetch_related("memberships__organization")[:20],
            "recent_organizations": Organization.objects.order_by("-created_at")[:20],
        },
    )
