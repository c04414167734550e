import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from tunery.orgs.roles import Scope
from tunery.orgs.tenancy import TenantModel
from tunery.public_ids import PublicIdField

SECRET_PREFIX = "tun_"


def hash_secret(secret: str) -> str:
    """HMAC-SHA256 with a dedicated pepper: a leaked table cannot be brute-forced offline,
    and rotating SECRET_KEY does not invalidate keys."""
    return hmac.new(settings.API_KEY_PEPPER.encode(), secret.encode(), hashlib.sha256).hexdigest()


class ApiKey(TenantModel):
    """A key belongs to an organization, not to a person; its secret is shown once."""

    public_id = PublicIdField(prefix="key")
    name = models.CharField(max_length=100)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    last4 = models.CharField(max_length=4, editable=False)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.redacted})"

    @property
    def redacted(self) -> str:
        return f"{SECRET_PREFIX}…{self.last4}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        return "active" if self.is_active else "expired"

    @classmethod
    def issue(
        cls, organization, *, name: str, scopes: list[str], created_by=None, expires_at=None
    ) -> tuple["ApiKey", str]:
        """Create a key and return it with its secret, which is never stored."""
        unknown = set(scopes) - set(Scope.values)
        if unknown or not scopes:
            raise ValueError(f"scopes must be a non-empty subset of {', '.join(Scope.values)}")
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        key = cls.objects.create(
            organization=organization,
            name=name,
            secret_hash=hash_secret(secret),
            last4=secret[-4:],
            scopes=sorted(set(scopes)),
            created_by=created_by,
            expires_at=expires_at,
        )
        return key, secret

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
