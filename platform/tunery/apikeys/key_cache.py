"""API keys this process verified recently, by their secret's hash, so that an API call does
not look its key (and the key's organization) up in the database every time: that look-up was
the largest part of authenticating a gateway call.

How long a change takes to be seen:
- a key revoked, deleted or changed (scopes, expiry) through this process: at once (the signals
  below forget it, and every key of an organization changed or deleted);
- the same done by another process (another uvicorn worker or machine, the admin elsewhere):
  within KEY_CACHE_SECONDS, when the entry here expires;
- a key reaching its `expires_at`: at once, since that is checked on every call.

Each caller gets its own copy of the key and its organization: requests run concurrently in
threads and may change what they are given.
"""

import copy
import threading
import time

from cachetools import TTLCache
from django.db.models.signals import post_delete, post_save

KEY_CACHE_SECONDS = 10


def _clock() -> float:
    return time.monotonic()


_keys = TTLCache(maxsize=10_000, ttl=KEY_CACHE_SECONDS, timer=lambda: _clock())
_lock = threading.Lock()


def get(secret_hash: str):
    with _lock:
        key = _keys.get(secret_hash)
    return _copy(key) if key is not None else None


def remember(key) -> None:
    with _lock:
        _keys[key.secret_hash] = _copy(key)


def touched(key) -> None:
    """The key's last_used_at was written: keep the remembered one in step, or every call after
    the first minute would write it again."""
    with _lock:
        remembered = _keys.get(key.secret_hash)
        if remembered is not None:
            remembered.last_used_at = key.last_used_at


def forget_key(sender, instance, **kwargs) -> None:
    with _lock:
        _keys.pop(instance.secret_hash, None)


def forget_organization(sender, instance, **kwargs) -> None:
    with _lock:
        for secret_hash in [h for h, key in _keys.items() if key.organization_id == instance.pk]:
            del _keys[secret_hash]


def clear() -> None:
    with _lock:
        _keys.clear()


def _copy(key):
    duplicate = copy.copy(key)
    duplicate.organization = copy.copy(key.organization)
    return duplicate


def connect_signals() -> None:
    from tunery.apikeys.models import ApiKey
    from tunery.orgs.models import Organization

    post_save.connect(forget_key, sender=ApiKey, dispatch_uid="key_cache.key_saved")
    post_delete.connect(forget_key, sender=ApiKey, dispatch_uid="key_cache.key_deleted")
    post_save.connect(forget_organization, sender=Organization, dispatch_uid="key_cache.organization_saved")
    post_delete.connect(forget_organization, sender=Organization, dispatch_uid="key_cache.organization_deleted")
