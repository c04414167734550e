"""Requests per minute per API key and per organization, counted in the shared cache (Redis
in production), fixed one-minute windows."""

import time

from django.conf import settings
from django.core.cache import cache

from tunery.api.errors import ApiError

WINDOW_SECONDS = 60


class RateLimited(ApiError):
    def __init__(self, scope: str, limit: int, wait: int):
        super().__init__(
            f"Rate limit reached for {scope}: {limit} requests per minute. Try again in {wait} s.",
            status_code=429,
            code="rate_limit_exceeded",
        )
        self.wait = wait


def _hit(key: str, now: float) -> int:
    window_key = f"ratelimit:{key}:{int(now // WINDOW_SECONDS)}"
    cache.add(window_key, 0, WINDOW_SECONDS + 5)
    return cache.incr(window_key)


def check(organization, api_key) -> None:
    now = time.time()
    wait = int(WINDOW_SECONDS - now % WINDOW_SECONDS) + 1
    if api_key is not None and _hit(f"key:{api_key.pk}", now) > settings.TUNERY_RATE_LIMIT_PER_KEY:
        raise RateLimited("this API key", settings.TUNERY_RATE_LIMIT_PER_KEY, wait)
    if _hit(f"org:{organization.pk}", now) > settings.TUNERY_RATE_LIMIT_PER_ORG:
        raise RateLimited("this organization", settings.TUNERY_RATE_LIMIT_PER_ORG, wait)
