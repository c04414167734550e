from tunery.orgs.models import Membership

SESSION_KEY = "active_organization"


def active_membership(request) -> Membership | None:
    """The signed-in user's membership in the organization chosen in the session, else the
    oldest one they have."""
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=user).select_related("organization").order_by("created_at")
    chosen = request.session.get(SESSION_KEY)
    if chosen:
        membership = memberships.filter(organization__public_id=chosen).first()
        if membership:
            return membership
    return memberships.first()


class ActiveOrganizationMiddleware:
    """Sets `request.membership` and `request.organization` (None for anonymous requests;
    API views replace them with the API key's organization)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = active_membership(request)
        request.organization = request.membership.organization if request.membership else None
        return self.get_response(request)
