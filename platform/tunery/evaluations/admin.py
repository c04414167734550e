from django.contrib import admin

from tunery.evaluations.models import EvaluationRun


@admin.register(EvaluationRun)
class EvaluationRunAdmin(admin.ModelAdmin):
    list_display = ["public_id", "organization", "base_model", "status", "progress", "cost", "created_at"]
    list_filter = ["status", "base_model", "created_at"]
    search_fields = ["public_id", "organization__name", "organization__slug"]
    readonly_fields = [f.name for f in EvaluationRun._meta.fields]
