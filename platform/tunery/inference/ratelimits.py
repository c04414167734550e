"""Requests per minute per API key and per organization, counted in the shared cache (Redis
in production), fixed one-minute windows."""

import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from tunery.api.errors import ApiError

WINDOW_SECONDS = 60
# A window's counter outlives its minute a little, so that a clock a few seconds apart between
# web processes still finds it.
COUNTER_SECONDS = WINDOW_SECONDS + 5


class RateLimited(ApiError):
    def __init__(self, scope: str, limit: int, wait: int):
        super().__init__(
            f"Rate limit reached for {scope}: {limit} requests per minute. Try again in {wait} s.",
            status_code=429,
            code="rate_limit_exceeded",
        )
        self.wait = wait


def check(organization, api_key) -> None:
    """Count the call against its key and its organization (both, even when the key's limit
    already refuses it), then refuse it if either is over its limit."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    limits = {f"org:{organization.pk}": ("this organization", settings.TUNERY_RATE_LIMIT_PER_ORG)}
    if api_key is not None:
        limits = {f"key:{api_key.pk}": ("this API key", settings.TUNERY_RATE_LIMIT_PER_KEY), **limits}
    counts = _count([f"ratelimit:{name}:{window}" for name in limits])
    wait = int(WINDOW_SECONDS - now % WINDOW_SECONDS) + 1
    for (scope, limit), count in zip(limits.values(), counts, strict=True):
        if count > limit:
            raise RateLimited(scope, limit, wait)


def _count(keys: list[str]) -> list[int]:
    """Add one to each counter and return the new counts. On Redis in one round trip: a pipeline
    of INCR and EXPIRE per counter (five round trips before: add and incr for each, and the
    client's own look-ups); elsewhere (the embedded default's local cache) with add and incr."""
    cache = caches["default"]  # the backend itself (django.core.cache.cache is a proxy to it)
    if isinstance(cache, RedisCache):
        # Django's Redis cache has no multi-command call; its client is redis-py's, whose
        # pipeline sends every command at once. Keys get the cache's prefix like any other.
        client = cache._cache.get_client(write=True)
        pipeline = client.pipeline(transaction=False)
        for key in keys:
            full_key = cache.make_and_validate_key(key)
            pipeline.incr(full_key)
            pipeline.expire(full_key, COUNTER_SECONDS)
        return pipeline.execute()[::2]
    counts = []
    for key in keys:
        cache.add(key, 0, COUNTER_SECONDS)
        counts.append(cache.incr(key))
    return counts
