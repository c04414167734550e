"""The Celery app (`celery -A tunery worker|beat`). Queues: `cpu` (dataset work, billing, the
reaper) and `gpu` (training and evaluation; run those workers with --concurrency=1, one task
per GPU). Each app's tasks live in its own `tasks.py`, found by autodiscovery."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tunery.settings")

app = Celery("tunery")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
