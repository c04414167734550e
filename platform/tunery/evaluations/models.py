"""Evaluation runs: a set of models of one base scored on a test file (docs/training.md)."""

from django.db import models

from tunery.billing.money import MONEY_FIELD
from tunery.files.models import File
from tunery.jobs.models import BaseModel
from tunery.orgs.tenancy import TenantModel
from tunery.public_ids import PublicIdField


class EvaluationStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (EvaluationStatus.QUEUED, EvaluationStatus.RUNNING)
FINAL_STATUSES = (EvaluationStatus.SUCCEEDED, EvaluationStatus.FAILED, EvaluationStatus.CANCELLED)


class EvaluationRun(TenantModel):
    public_id = PublicIdField(prefix="evalrun")
    # A deleted file leaves its evaluations readable (a queued one fails: nothing to read).
    test_file = models.ForeignKey(File, null=True, on_delete=models.SET_NULL, related_name="+")
    model_names = models.JSONField(help_text="The models as named in the request: base, fine-tuned or checkpoint.")
    base_model = models.ForeignKey(BaseModel, on_delete=models.PROTECT, related_name="+")
    max_examples = models.PositiveIntegerField()

    status = models.CharField(max_length=20, choices=EvaluationStatus.choices, default=EvaluationStatus.QUEUED)
    progress = models.FloatField(default=0.0)  # 0 to 1
    # {"n_examples", "answer_kind", "labels", "main_metric", "models": [one per name, in order]}
    results = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)  # {"code", "message", "param"}
    stop_requested = models.BooleanField(default=False)  # read by the worker between batches

    # Billing: the estimate is held from the balance; the tokens used are charged at the end.
    price = models.ForeignKey("billing.Price", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    estimated_cost = models.DecimalField(**MONEY_FIELD, default=0)
    held_entry = models.ForeignKey(
        "billing.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    charge_entry = models.ForeignKey(
        "billing.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)
    cost = models.DecimalField(**MONEY_FIELD, null=True, blank=True, help_text="Charged, once finished.")

    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=200, blank=True, default="")  # a member's e-mail or an API key
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["status", "heartbeat_at"]),
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES
