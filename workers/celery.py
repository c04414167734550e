"""The Celery app. Queues: `cpu` (dataset work, billing, the reaper) and `gpu` (training,
evaluation; run those workers with --concurrency=1, one task per GPU)."""
import os
import sys
from pathlib import Path

from celery import Celery

sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "platform"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tunery.settings")

app = Celery("tunery")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["workers"], related_name="tasks")
