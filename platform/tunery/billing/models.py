"""Billing (docs/billing.md): a versioned price book, an append-only ledger per organization,
and the Stripe records (customer, payments, events) that feed it."""

from django.db import models
from django.utils import timezone

from tunery.billing.money import MONEY_FIELD
from tunery.orgs.models import Organization
from tunery.orgs.tenancy import TenantModel
from tunery.public_ids import PublicIdField


class Price(models.Model):
    """One version of a base model's prices. Rows are never edited: a new price is a new row
    with a later `effective_from`, so a job keeps the price it was quoted (it points at its row)."""

    base_model = models.ForeignKey("jobs.BaseModel", on_delete=models.PROTECT, related_name="prices")
    training_per_million = models.DecimalField(**MONEY_FIELD, help_text="USD per 1M trained tokens.")
    input_per_million = models.DecimalField(**MONEY_FIELD, help_text="USD per 1M prompt tokens.")
    output_per_million = models.DecimalField(**MONEY_FIELD, help_text="USD per 1M completion tokens.")
    effective_from = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["base_model__name", "-effective_from"]
        indexes = [models.Index(fields=["base_model", "-effective_from"])]

    def __str__(self) -> str:
        return f"{self.base_model}: {self.training_per_million}/1M trained tokens from {self.effective_from:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Prices are versioned: add a new Price instead of changing this one.")
        super().save(*args, **kwargs)


class BillingAccount(models.Model):
    """An organization's billing settings and its Stripe customer. The balance is not stored
    here: it is the sum of the ledger. This row is also the lock taken while a hold is placed."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="billing_account")
    stripe_customer_id = models.CharField(max_length=100, blank=True, default="")
    card_brand = models.CharField(max_length=20, blank=True, default="")
    card_last4 = models.CharField(max_length=4, blank=True, default="")
    card_exp = models.CharField(max_length=7, blank=True, default="")  # MM/YYYY
    stripe_payment_method_id = models.CharField(max_length=100, blank=True, default="")
    monthly_spend_limit = models.DecimalField(**MONEY_FIELD, null=True, blank=True, help_text="Empty: no limit.")
    auto_recharge = models.BooleanField(default=False)
    auto_recharge_threshold = models.DecimalField(**MONEY_FIELD, default=10)
    auto_recharge_amount = models.DecimalField(**MONEY_FIELD, default=50)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Billing of {self.organization}"

    @property
    def has_card(self) -> bool:
        return bool(self.stripe_payment_method_id)


class EntryKind(models.TextChoices):
    TRIAL = "trial", "Trial credit"
    TOP_UP = "top_up", "Top-up"
    REFUND = "refund", "Refund"
    ADJUSTMENT = "adjustment", "Adjustment"
    HOLD = "hold", "Hold"
    RELEASE = "release", "Hold released"
    JOB_CHARGE = "job_charge", "Fine-tuning"
    USAGE_CHARGE = "usage_charge", "Inference"
    EVALUATION_CHARGE = "evaluation_charge", "Evaluation"


CREDIT_KINDS = (EntryKind.TRIAL, EntryKind.TOP_UP, EntryKind.REFUND, EntryKind.ADJUSTMENT)
CHARGE_KINDS = (EntryKind.JOB_CHARGE, EntryKind.USAGE_CHARGE, EntryKind.EVALUATION_CHARGE)


class UsagePeriod(TenantModel):
    """One organization's inference of one model on one (UTC) day: the thing inference
    charges link to. Requests are charged into it in batches as they arrive."""

    model = models.CharField(max_length=300)
    base_model = models.ForeignKey("jobs.BaseModel", null=True, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()

    class Meta:
        ordering = ["-day", "model"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "model", "day"], name="one_usage_period_per_model_day")
        ]

    def __str__(self) -> str:
        return f"{self.model} on {self.day}"


class LedgerEntry(TenantModel):
    """One line of an organization's ledger. Append-only: never updated or deleted (enforced
    here and, on PostgreSQL, by a trigger). Credits are positive, holds and charges negative."""

    public_id = PublicIdField(prefix="txn")
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    amount = models.DecimalField(**MONEY_FIELD)
    description = models.CharField(max_length=300)
    job = models.ForeignKey(
        "jobs.FineTuningJob", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    usage_period = models.ForeignKey(
        UsagePeriod, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    payment = models.ForeignKey(
        "billing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    tokens = models.BigIntegerField(null=True, blank=True)
    created_by = models.CharField(max_length=200, blank=True, default="")  # who granted a manual credit
    # What a retried ledger-only top-up repeats (Stripe top-ups keep theirs on the Payment).
    idempotency_key = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["organization", "created_at"])]
        constraints = [
            # A job has at most one hold, one release and one charge; a payment credits once.
            models.UniqueConstraint(
                fields=["job", "kind"], condition=models.Q(job__isnull=False), name="one_entry_per_job_and_kind"
            ),
            models.UniqueConstraint(
                fields=["payment"], condition=models.Q(payment__isnull=False), name="one_credit_per_payment"
            ),
            models.UniqueConstraint(fields=["organization"], condition=models.Q(kind="trial"), name="one_trial_credit"),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="one_entry_per_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.kind} {self.amount}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Ledger entries are append-only: add a correcting entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Ledger entries are append-only and cannot be deleted.")


class PaymentStatus(models.TextChoices):
    PROCESSING = "processing"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Payment(TenantModel):
    """A top-up charged through Stripe (a PaymentIntent). Credited to the ledger exactly once,
    when Stripe says it succeeded — in the confirming reply or the webhook, whichever is first."""

    public_id = PublicIdField(prefix="pay")
    stripe_payment_intent_id = models.CharField(max_length=100, unique=True)
    amount = models.DecimalField(**MONEY_FIELD)
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PROCESSING)
    automatic = models.BooleanField(default=False, help_text="Started by auto-recharge.")
    failure_message = models.CharField(max_length=300, blank=True, default="")
    card = models.CharField(max_length=40, blank=True, default="")  # "visa •••• 4242"
    receipt_url = models.URLField(max_length=500, blank=True, default="")
    idempotency_key = models.CharField(max_length=300, blank=True, default="")  # what a retried request repeats
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "idempotency_key"])]

    def __str__(self) -> str:
        return f"{self.public_id} {self.amount} {self.status}"


class StripeEvent(models.Model):
    """A webhook event applied once: its id is recorded in the same transaction as its effect."""

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class SpendNotice(TenantModel):
    """A notice that an organization reached 80% or 100% of its monthly spend limit, sent once
    per month, threshold and limit (a raised limit gets its own notices)."""

    month = models.DateField()  # first day of the month
    percent = models.PositiveSmallIntegerField()
    limit = models.DecimalField(**MONEY_FIELD)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "percent", "limit"], name="one_notice_per_threshold_and_limit"
            )
        ]
