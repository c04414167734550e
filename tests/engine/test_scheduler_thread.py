"""The scheduler thread builds the model it runs (one OpenMP pool on CPU; see Scheduler)."""

from __future__ import annotations

import threading

import pytest

from workers.engine.scheduler import Scheduler


def test_the_model_is_built_on_the_thread_that_runs_it():
    built_on = []

    def build():
        built_on.append(threading.current_thread())
        return "runner", "pool"

    scheduler = Scheduler(build)
    scheduler.start()
    try:
        runs_on = scheduler.call(threading.current_thread).result(timeout=10)
    finally:
        scheduler.stop()

    assert built_on == [runs_on] and runs_on is not threading.main_thread()
    assert (scheduler.runner, scheduler.pool) == ("runner", "pool")


def test_a_model_that_fails_to_load_fails_start_with_its_error():
    def build():
        raise FileNotFoundError("no weights in /models/missing")

    scheduler = Scheduler(build)

    with pytest.raises(FileNotFoundError, match="/models/missing"):
        scheduler.start()
    scheduler.stop()  # the thread already ended; stopping is harmless
