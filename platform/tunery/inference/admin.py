from django.contrib import admin

from tunery.inference.models import InferenceRequest


@admin.register(InferenceRequest)
class InferenceRequestAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "organization",
        "model",
        "endpoint",
        "status_code",
        "prompt_tokens",
        "completion_tokens",
        "latency_ms",
    ]
    list_filter = ["endpoint", "status_code", "stream", "created_at"]
    search_fields = ["model", "organization__name", "organization__slug"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False  # usage records come from the gateway only
