"""Rate limits per key and per organization, counted in the real cache (Redis when REDIS_URL is
set, as in CI), with both counters in one round trip."""

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from tunery.apikeys.models import ApiKey
from tunery.inference import ratelimits


@pytest.fixture(autouse=True)
def fresh_counters():
    """The embedded default's local cache outlives a test, and SQLite reuses ids across tests: start
    from no counts. (Redis keys carry this run's prefix, and PostgreSQL never reuses an id.)"""
    if not isinstance(caches["default"], RedisCache):
        caches["default"].clear()


@pytest.fixture
def keys(org_a):
    return [ApiKey.issue(org_a, name=f"k{n}", scopes=["inference"])[0] for n in range(2)]


def test_a_key_over_its_limit_is_refused_with_the_wait(org_a, keys, settings):
    settings.TUNERY_RATE_LIMIT_PER_KEY, settings.TUNERY_RATE_LIMIT_PER_ORG = 3, 100
    for _ in range(3):
        ratelimits.check(org_a, keys[0])
    with pytest.raises(ratelimits.RateLimited) as refused:
        ratelimits.check(org_a, keys[0])
    assert "this API key: 3 requests per minute" in str(refused.value.detail)
    assert 1 <= refused.value.wait <= ratelimits.WINDOW_SECONDS + 1
    ratelimits.check(org_a, keys[1])  # another key has its own count


def test_the_organization_counts_every_key(org_a, keys, settings):
    settings.TUNERY_RATE_LIMIT_PER_KEY, settings.TUNERY_RATE_LIMIT_PER_ORG = 100, 3
    ratelimits.check(org_a, keys[0])
    ratelimits.check(org_a, keys[1])
    ratelimits.check(org_a, None)  # the web session's calls count too
    with pytest.raises(ratelimits.RateLimited) as refused:
        ratelimits.check(org_a, keys[1])
    assert "this organization" in str(refused.value.detail)


def test_both_counters_are_one_round_trip_to_redis_and_expire(org_a, keys, monkeypatch):
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.skip("the embedded default counts in the local cache: run with REDIS_URL (bin/services)")
    import redis.connection

    sent = []
    real_send = redis.connection.Connection.send_packed_command
    monkeypatch.setattr(
        redis.connection.Connection,
        "send_packed_command",
        lambda self, command, *args, **kwargs: sent.append(command) or real_send(self, command, *args, **kwargs),
    )
    ratelimits.check(org_a, keys[0])
    assert len(sent) == 1  # INCR and EXPIRE for the key and the organization, in one packet
    client = cache._cache.get_client()
    counters = client.keys(cache.make_key(f"ratelimit:key:{keys[0].pk}:*")) + client.keys(
        cache.make_key(f"ratelimit:org:{org_a.pk}:*")
    )
    assert len(counters) == 2
    assert all(0 < client.ttl(counter) <= ratelimits.COUNTER_SECONDS for counter in counters)
