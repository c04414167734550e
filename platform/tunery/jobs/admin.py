from django.contrib import admin

from tunery.jobs.models import BaseModel, Checkpoint, FineTuningJob, JobEvent


@admin.register(BaseModel)
class BaseModelAdmin(admin.ModelAdmin):
    """The catalogue: operators add base models here (a local folder or a cached hub id)."""

    list_display = ["name", "source", "max_seq_len", "price_class", "gpu_queue", "enabled"]
    list_filter = ["source", "enabled", "price_class"]
    search_fields = ["name", "path"]


class CheckpointInline(admin.TabularInline):
    model = Checkpoint
    extra = 0
    readonly_fields = ["public_id", "step", "epoch", "metrics", "path", "created_at"]
    can_delete = False


@admin.register(FineTuningJob)
class FineTuningJobAdmin(admin.ModelAdmin):
    list_display = [
        "public_id",
        "organization",
        "base_model",
        "status",
        "step",
        "total_steps",
        "attempts",
        "heartbeat_at",
        "created_at",
    ]
    list_filter = ["status", "base_model", "created_at"]
    search_fields = ["public_id", "fine_tuned_model", "organization__name", "organization__slug"]
    readonly_fields = [f.name for f in FineTuningJob._meta.fields if f.name not in ("stop_request",)]
    inlines = [CheckpointInline]


@admin.register(JobEvent)
class JobEventAdmin(admin.ModelAdmin):
    list_display = ["job", "created_at", "level", "type", "message"]
    list_filter = ["level", "type"]
    search_fields = ["job__public_id", "message"]
