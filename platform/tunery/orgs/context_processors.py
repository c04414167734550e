from tunery.orgs.models import Membership


def organizations(request) -> dict:
    """The organization switcher in the navigation bar."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    return {
        "active_membership": getattr(request, "membership", None),
        "my_memberships": Membership.objects.filter(user=user).select_related("organization"),
    }
