"""Roles and what each may do. Scopes are shared with API keys (tunery.apikeys)."""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


class Scope(models.TextChoices):
    READ = "read", "Read"
    FINE_TUNE = "fine-tune", "Fine-tune (files and jobs)"
    INFERENCE = "inference", "Inference"
    ADMIN = "admin", "Manage organization and keys"


ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(Scope.values),
    Role.ADMIN: frozenset(Scope.values),
    Role.MEMBER: frozenset({Scope.READ, Scope.FINE_TUNE, Scope.INFERENCE}),
    Role.VIEWER: frozenset({Scope.READ}),
}

MANAGER_ROLES = frozenset({Role.OWNER, Role.ADMIN})
