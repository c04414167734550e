"""Base models, fine-tuning jobs, their events, metrics and checkpoints (docs/training.md)."""

from django.db import models
from django.utils import timezone

from tunery.files.models import File
from tunery.orgs.tenancy import TenantModel
from tunery.public_ids import PublicIdField


class BaseModel(models.Model):
    """One catalogue entry: what can be fine-tuned, and how. Operators add rows in the admin."""

    class Source(models.TextChoices):
        EMBEDDED = "embedded", "Embedded (ships with Tunery, offline)"
        LOCAL = "local", "Local folder"
        HUB = "hub", "Hugging Face id (must already be in the local cache)"

    name = models.CharField(max_length=100, unique=True, help_text="The `model` of a job, e.g. SmolLM2-135M-Instruct.")
    source = models.CharField(max_length=10, choices=Source.choices)
    path = models.CharField(max_length=500, blank=True, default="", help_text="Folder or hub id; empty for embedded.")
    gguf_file = models.CharField(max_length=200, blank=True, default="")
    max_seq_len = models.PositiveIntegerField()
    lora_target_modules = models.JSONField(default=list)
    chat_template = models.TextField(blank=True, default="", help_text="Empty: the tokenizer's own.")
    price_class = models.CharField(max_length=20, default="small")
    hidden_size = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The model's width (config.hidden_size): the auto learning rate scales with it.",
    )
    gpu_queue = models.CharField(max_length=40, default="gpu", help_text="Celery queue of the workers that train it.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def lora_layer_names(self) -> set[str]:
        """The layer names LoRA may target in this model's blocks, known without loading it.
        The catalogue entry lists the layers trained by default; a Llama-style entry (all its
        names are Llama's) has all seven linear layers of a Llama block to choose from."""
        from workers.ml.base_models import LLAMA_LINEAR_MODULES

        names = set(self.lora_target_modules)
        return names | set(LLAMA_LINEAR_MODULES) if names <= set(LLAMA_LINEAR_MODULES) else names

    def spec(self):
        from workers.ml.base_models import BaseModelSpec

        return BaseModelSpec(
            name=self.name,
            source=self.source,
            path=self.path or None,
            gguf_file=self.gguf_file or None,
            max_seq_len=self.max_seq_len,
            lora_target_modules=list(self.lora_target_modules),
            chat_template=self.chat_template or None,
            price_class=self.price_class,
            hidden_size=self.hidden_size,
        )


class JobStatus(models.TextChoices):
    VALIDATING_FILES = "validating_files"
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (JobStatus.VALIDATING_FILES, JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.PAUSED)
FINAL_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class FineTuningJob(TenantModel):
    public_id = PublicIdField(prefix="ftjob")
    base_model = models.ForeignKey(BaseModel, on_delete=models.PROTECT, related_name="jobs")
    model = models.CharField(max_length=300, help_text="As requested: a base model or a fine-tuned model to continue.")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    training_file = models.ForeignKey(File, on_delete=models.PROTECT, related_name="+")
    validation_file = models.ForeignKey(File, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    suffix = models.CharField(max_length=64, blank=True, default="")
    seed = models.IntegerField()
    metadata = models.JSONField(default=dict, blank=True)
    hyperparameters = models.JSONField(default=dict, blank=True, help_text="As requested (numbers or 'auto').")
    resolved_hyperparameters = models.JSONField(null=True, blank=True)
    price = models.ForeignKey(
        "billing.Price",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The price quoted when the job was created; it is charged at this price.",
    )
    estimated_cost = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)

    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.VALIDATING_FILES)
    error = models.JSONField(null=True, blank=True)  # {"code", "message", "param"}
    stop_request = models.CharField(max_length=10, blank=True, default="")  # "cancel" or "pause", read by the worker
    fine_tuned_model = models.CharField(max_length=300, null=True, blank=True, unique=True)
    model_deleted = models.BooleanField(default=False)
    trained_tokens = models.BigIntegerField(null=True, blank=True)
    step = models.PositiveIntegerField(default=0)
    # The step whose weights the fine-tuned model holds: its best validation pass, not always the last.
    served_step = models.PositiveIntegerField(null=True, blank=True)
    total_steps = models.PositiveIntegerField(default=0)
    eta_seconds = models.FloatField(null=True, blank=True)
    result_file = models.ForeignKey(File, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    adapter_path = models.CharField(max_length=500, blank=True, default="")
    evaluation = models.JSONField(null=True, blank=True)

    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
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
    def short_id(self) -> str:
        return self.public_id.removeprefix("ftjob-")[:8]

    @property
    def model_name(self) -> str:
        """`ft:<base>:<org-slug>:<suffix>:<id>`, the name it is served under once it succeeds."""
        return f"ft:{self.base_model.name}:{self.organization.slug}:{self.suffix}:{self.short_id}"

    @property
    def progress(self) -> float:
        if self.status == JobStatus.SUCCEEDED:
            return 1.0
        return self.step / self.total_steps if self.total_steps else 0.0

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def estimated_finish(self):
        if self.status != JobStatus.RUNNING or self.eta_seconds is None:
            return None
        return timezone.now() + timezone.timedelta(seconds=self.eta_seconds)


class JobEvent(models.Model):
    """A line of the job's log (`message`), or one step's numbers (`metrics`)."""

    public_id = PublicIdField(prefix="ftevent")
    job = models.ForeignKey(FineTuningJob, on_delete=models.CASCADE, related_name="events")
    level = models.CharField(max_length=5, default="info")  # info, warn, error
    type = models.CharField(max_length=10, default="message")  # message, metrics
    message = models.TextField()
    data = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["job", "type", "created_at"])]


class Checkpoint(models.Model):
    public_id = PublicIdField(prefix="ftckpt")
    job = models.ForeignKey(FineTuningJob, on_delete=models.CASCADE, related_name="checkpoints")
    step = models.PositiveIntegerField()
    epoch = models.FloatField()
    metrics = models.JSONField(default=dict)
    path = models.CharField(max_length=500)  # a servable adapter folder
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-step"]
        constraints = [models.UniqueConstraint(fields=["job", "step"], name="one_checkpoint_per_step")]

    @property
    def model_name(self) -> str:
        return f"{self.job.model_name}:ckpt-step-{self.step}"
