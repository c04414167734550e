from django.contrib import admin

from tunery.files.models import File


@admin.register(File)
class FileAdmin(admin.ModelAdmin):
    list_display = ["filename", "public_id", "organization", "purpose", "status", "bytes", "created_at"]
    list_filter = ["status", "purpose", "source_format", "created_at"]
    search_fields = ["filename", "public_id", "organization__name", "organization__slug"]
    readonly_fields = ["public_id", "organization", "content", "bytes", "report", "parent", "created_at"]
