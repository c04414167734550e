"""Celery tasks: ids in, a service call, nothing else (DESIGN.md §2)."""
from workers.tasks import billing, files, jobs  # noqa: F401
