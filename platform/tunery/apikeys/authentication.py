"""`Authorization: Bearer tun_…` for the API, and the web session for the playground."""

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from tunery.api.principal import Principal
from tunery.apikeys import key_cache
from tunery.apikeys.models import SECRET_PREFIX, ApiKey, hash_secret

# Writing last_used_at on every call would turn each API request into a database write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class InvalidApiKey(exceptions.AuthenticationFailed):
    default_code = "invalid_api_key"


def key_for_header(header: str) -> ApiKey:
    """The active key an `Authorization` header names, or InvalidApiKey saying what is wrong
    (also used by the ASGI body guard, before a large body is read)."""
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise InvalidApiKey("Malformed Authorization header: expected `Authorization: Bearer tun_...`.")
    secret = parts[1]
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidApiKey("Incorrect API key provided: Tunery keys start with `tun_`.")
    secret_hash = hash_secret(secret)
    key = key_cache.get(secret_hash)
    if key is None:
        key = ApiKey.objects.select_related("organization").filter(secret_hash=secret_hash).first()
        if key is None:
            raise InvalidApiKey(f"Incorrect API key provided: {SECRET_PREFIX}…{secret[-4:]}.")
        key_cache.remember(key)
    if key.revoked_at:
        raise InvalidApiKey("This API key has been revoked.")
    if not key.is_active:
        raise InvalidApiKey("This API key has expired.")
    return key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION")
        if header is None:
            return None  # fall through to the session
        key = key_for_header(header)
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
            key_cache.touched(key)
        return Principal(organization=key.organization, scopes=frozenset(key.scopes), api_key=key), key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class SessionMemberAuthentication(authentication.SessionAuthentication):
    """A signed-in member acting in their active organization, with their role's scopes
    (CSRF-checked, as for any session-authenticated write)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        membership = getattr(request._request, "membership", None)
        if membership is None:
            raise exceptions.PermissionDenied("You are not a member of any organization.")
        return Principal(organization=membership.organization, scopes=membership.scopes, user=result[0]), None
