from django.db import models

from tunery.orgs.tenancy import TenantModel


class InferenceRequest(TenantModel):
    """One metered call to /v1/chat/completions or /v1/completions: the usage record that
    billing and the usage page aggregate by organization, key, model and day."""

    api_key = models.ForeignKey("apikeys.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    model = models.CharField(max_length=300)
    base_model = models.ForeignKey("jobs.BaseModel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    endpoint = models.CharField(max_length=20)  # chat.completions, completions
    stream = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField()
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField()
    time_to_first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    charged_at = models.DateTimeField(null=True, blank=True)  # when billing charged it to the ledger

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "created_at"]),
            models.Index(
                fields=["created_at"], condition=models.Q(charged_at__isnull=True), name="inference_not_charged"
            ),
        ]


class UsageRollup(TenantModel):
    """One UTC day of an organization's inference requests with one model and one key (None: the
    web session): counts, tokens and a histogram of latencies. The usage report reads these for
    the days they cover and the raw requests for the rest (usage.py); rollup.py writes them."""

    day = models.DateField()
    model = models.CharField(max_length=300)
    api_key = models.ForeignKey("apikeys.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requests = models.PositiveIntegerField()
    prompt_tokens = models.BigIntegerField()
    completion_tokens = models.BigIntegerField()
    # {bucket index: requests}, the buckets of usage.latency_bucket
    latency_buckets = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["organization", "day"])]


class RolledUpDay(models.Model):
    """A UTC day whose requests (of every organization) are in UsageRollup. Written in the same
    transaction as that day's roll-ups, so a day is either rolled up whole or not at all."""

    day = models.DateField(unique=True)
    rolled_up_at = models.DateTimeField(auto_now_add=True)
