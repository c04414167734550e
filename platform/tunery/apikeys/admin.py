from django.contrib import admin

from tunery.apikeys.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Operators see and revoke keys; the secret is never stored, so never shown."""

    list_display = [
        "name",
        "redacted",
        "organization",
        "scopes",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["revoked_at", "created_at"]
    search_fields = ["name", "public_id", "last4", "organization__name", "organization__slug"]
    readonly_fields = ["public_id", "redacted", "organization", "created_by", "created_at", "last_used_at"]
    exclude = ["secret_hash", "last4"]
    actions = ["revoke_keys"]

    def has_add_permission(self, request) -> bool:
        return False  # keys are issued from the organization's settings or the API

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request, queryset) -> None:
        for key in queryset:
            key.revoke()
