"""Uploaded files (OpenAI's File object) and the immutable versions derived from them."""

from django.db import models
from django.db.models import Sum

from tunery.orgs.tenancy import TenantModel
from tunery.public_ids import PublicIdField


class Purpose(models.TextChoices):
    FINE_TUNE = "fine-tune", "Fine-tune"
    FINE_TUNE_RESULTS = "fine-tune-results", "Fine-tune results"


class Status(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    PROCESSED = "processed", "Processed"
    ERROR = "error", "Error"


class SourceFormat(models.TextChoices):
    JSONL = "jsonl", "JSON Lines"
    CSV = "csv", "CSV"
    TSV = "tsv", "TSV"
    XLSX = "xlsx", "Excel (XLSX)"
    JSON = "json", "JSON array"


def storage_name(file: "File", filename: str) -> str:
    return f"files/{file.organization.public_id}/{file.public_id}/{filename}"


class File(TenantModel):
    public_id = PublicIdField(prefix="file")
    filename = models.CharField(max_length=255)
    content = models.FileField(upload_to=storage_name, max_length=400)
    bytes = models.BigIntegerField()
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    source_format = models.CharField(max_length=8, choices=SourceFormat.choices, default=SourceFormat.JSONL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    status_details = models.TextField(blank=True, default="")
    # The validation and analysis report (workers.ml.data DatasetReport.to_dict()).
    report = models.JSONField(null=True, blank=True)
    # Versions: a conversion, deduplication, shuffle, split or redaction makes a new file.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="versions")
    derivation = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.filename} ({self.public_id})"

    @property
    def is_tabular(self) -> bool:
        """CSV, TSV, XLSX and JSON arrays need a column mapping before they can be trained on."""
        return self.source_format != SourceFormat.JSONL

    @property
    def is_pending(self) -> bool:
        """Still being inspected or derived on the cpu queue."""
        return self.status == Status.UPLOADED and self.report is None

    @property
    def n_examples(self) -> int | None:
        return self.report.get("n_examples") if self.report else None


def storage_used(organization) -> int:
    return File.objects.filter(organization=organization).aggregate(total=Sum("bytes"))["total"] or 0
