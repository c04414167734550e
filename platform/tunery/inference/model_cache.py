"""The gateway's recent answers to "which model does this name mean for this organization", so
that a call does not look its model (a base model, or a fine-tuned one with its job, base and
organization) up in the database every time.

Kept per organization and name, so one organization's entry never answers another's call. Only
found models are kept: a model that starts to exist (a job succeeds) is served at once. One
that stops (deleted, its base model disabled) is refused at once when that happens through this
process (the signals below clear the cache) and within MODEL_CACHE_SECONDS when another process
did it.
"""

import threading
import time

from cachetools import TTLCache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tunery.jobs.models import BaseModel
from tunery.jobs.naming import ResolvedModel, resolve_model
from tunery.jobs.signals import model_deleted

MODEL_CACHE_SECONDS = 10


def _clock() -> float:
    return time.monotonic()


_resolved = TTLCache(maxsize=10_000, ttl=MODEL_CACHE_SECONDS, timer=lambda: _clock())
_lock = threading.Lock()


def resolve(organization, name: str) -> ResolvedModel | None:
    """resolve_model, remembered for MODEL_CACHE_SECONDS."""
    entry = (organization.pk, name)
    with _lock:
        resolved = _resolved.get(entry)
    if resolved is None:
        resolved = resolve_model(organization, name)
        if resolved is not None:
            with _lock:
                _resolved[entry] = resolved
    return resolved


@receiver(model_deleted, dispatch_uid="model_cache.model_deleted")
@receiver(post_save, sender=BaseModel, dispatch_uid="model_cache.base_saved")
@receiver(post_delete, sender=BaseModel, dispatch_uid="model_cache.base_deleted")
def forget_all(**kwargs) -> None:
    """Models are deleted and base models changed rarely: start afresh."""
    with _lock:
        _resolved.clear()
