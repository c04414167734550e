"""A training worker killed with SIGKILL: the reaper re-queues the job, another worker resumes
it from the last checkpoint, and it succeeds."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import wait_for
from tunery.jobs import runner
from tunery.jobs.models import FineTuningJob
from tunery.jobs.services import requeue_stalled

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def start_worker(name: str) -> subprocess.Popen:
    """A real `celery worker` process on the test database and the test run's queues."""
    env = dict(os.environ)
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env["TUNERY_VAR_DIR"] = str(settings.VAR_DIR)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tunery",
            "worker",
            "-Q",
            "gpu",
            "-n",
            f"{name}@%h",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(settings.VAR_DIR) / f"worker-{name}.log", "ab"),
    )


def test_sigkilled_worker_resumes_from_its_last_checkpoint(
    api_a, tiny_base, training_file_a, transactional_db, settings
):
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        connection.close()  # let the worker process write to the shared SQLite file
    body = api_a.post(
        "/v1/fine_tuning/jobs",
        {
            "model": "tiny-llama",
            "training_file": training_file_a.public_id,
            "hyperparameters": {"n_epochs": 8, "batch_size": 1},
        },
        format="json",
    ).json()
    job = FineTuningJob.objects.get(public_id=body["id"])
    runner.prepare(job.pk, job.organization_id)  # cpu-queue work, here in the test; training goes to the gpu queue

    first = start_worker("first")
    try:
        wait_for(lambda: FineTuningJob.objects.get(pk=job.pk).checkpoints.count() >= 2, timeout=60, every=0.5)
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        first.kill()
    killed_at = FineTuningJob.objects.get(pk=job.pk)
    assert killed_at.status == "running"  # nobody told the database: the heartbeat just stops
    last_checkpoint = killed_at.checkpoints.order_by("-step").first().step

    settings.TUNERY_HEARTBEAT_TIMEOUT = 3
    time.sleep(4)
    assert [j.pk for j in requeue_stalled()] == [job.pk]

    second = start_worker("second")
    try:
        done = wait_for(
            lambda: (j := FineTuningJob.objects.get(pk=job.pk)).status in ("succeeded", "failed") and j,
            timeout=400,
            every=1,
        )
    finally:
        second.terminate()
        second.wait(30)
    assert done.status == "succeeded", done.error
    assert done.attempts == 2
    messages = list(done.events.values_list("message", flat=True))
    resumed = [
        int(m.rsplit(" ", 1)[1].rstrip(".")) for m in messages if m.startswith("Resumed from the checkpoint at step")
    ]
    # The last checkpoint on disk: the one the database knew of, or a later one the worker had
    # written but not yet recorded when it was killed. Never an earlier one, never from scratch.
    assert len(resumed) == 1 and last_checkpoint <= resumed[0] < done.total_steps
