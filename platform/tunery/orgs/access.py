"""Decorators for web views: who may see and who may change an organization's things."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from tunery.orgs.roles import Scope

_SCOPE_REFUSALS = {
    Scope.READ: "You are not a member of this organization.",
    Scope.FINE_TUNE: "Viewers cannot change anything: ask an admin for the member role.",
    Scope.INFERENCE: "Viewers cannot run models: ask an admin for the member role.",
    Scope.ADMIN: "Only owners and admins can do this.",
}


def member_required(scope: str = Scope.READ):
    """Signed in, a member of an active organization, and a role that grants `scope`."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.membership is None:
                messages.info(request, "Create an organization to get started.")
                return redirect("orgs:create")
            if scope not in request.membership.scopes:
                raise PermissionDenied(_SCOPE_REFUSALS[scope])
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
