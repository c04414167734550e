from rest_framework import permissions

from tunery.orgs.roles import Scope


class HasScope(permissions.BasePermission):
    """Reads need the view's `read_scope`, writes its `write_scope` (both from the key's
    scopes, or the member's role)."""

    message = "This API key or role lacks the scope needed here."

    def has_permission(self, request, view) -> bool:
        principal = request.user
        if principal is None or not getattr(principal, "is_authenticated", False):
            return False
        if request.method in permissions.SAFE_METHODS:
            needed = getattr(view, "read_scope", Scope.READ)
        else:
            needed = getattr(view, "write_scope", Scope.ADMIN)
        if needed in principal.scopes:
            return True
        self.message = f"This API key or role lacks the `{needed}` scope needed for this request."
        return False
