"""One Redis connection pool per process, shared by every request's cache.

Django keeps a cache backend per request context (asgiref's Local), and each RedisCache builds
its own redis-py pool: under ASGI every request is a new context, so every request opened a new
connection to Redis (TCP connect, HELLO, a health check) before its first cache command, which
was a large part of the gateway's time per call. The cache's `pool_class` option (settings,
CACHES) makes `from_url` hand out one pool per URL and options instead. redis-py's pool is
thread-safe and makes itself anew in a forked child (it checks the pid), so Celery's workers
are safe too.
"""

import threading

import redis

_pools: dict[tuple, redis.ConnectionPool] = {}
_lock = threading.Lock()


class SharedConnectionPool(redis.ConnectionPool):
    @classmethod
    def from_url(cls, url: str, **options) -> redis.ConnectionPool:
        key = (url, tuple(sorted(options.items(), key=lambda item: item[0])))
        with _lock:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = redis.ConnectionPool.from_url(url, **options)
        return pool
