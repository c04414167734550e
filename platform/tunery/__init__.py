import sys
from pathlib import Path

# The repository root holds workers/. Entry points that put only platform/ on the path
# (`uvicorn --app-dir platform tunery.asgi:application`) import this package first: add it here.
_REPO_ROOT = str(Path(__file__).resolve().parents[2])
if _REPO_ROOT not in sys.path:
    sys.path.insert(1, _REPO_ROOT)

# Load the Celery app with Django, so that tasks sent from web processes use its broker.
from workers.celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
