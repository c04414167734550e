"""The auto learning rate follows how much of the answers the embedded model already predicts:
low for answers copied from the prompt, high for labels it cannot guess."""

from __future__ import annotations

import pytest

from tests.ml.conftest import chat, write_jsonl
from tests.ml.topic_task import write_task
from workers.ml.base_models import EMBEDDED_DEFAULT
from workers.ml.hyperparameters import base_learning_rate
from workers.ml.trainer import TrainConfig, TrainingCallbacks, train

CITIES = ["Lisbon", "Oslo", "Nairobi", "Lima", "Hanoi", "Quito", "Dakar", "Perth"]
STREETS = ["14 Harbour Road", "3 Mill Lane", "221 Station Street", "9 Orchard Close"]
FRAMES = ["Please ship my order to {}.", "Deliver it to our office at {}, thanks."]
ONE_STEP = {"n_epochs": 1, "batch_size": 16}


class Recorder(TrainingCallbacks):
    def __init__(self, pause_after: int | None = None) -> None:
        self.hyperparameters, self.events, self.steps = [], [], 0
        self.pause_after = pause_after

    def on_step(self, metrics):
        self.steps += 1

    def should_stop(self):
        return "pause" if self.pause_after is not None and self.steps >= self.pause_after else None

    def on_hyperparameters(self, hyperparameters):
        self.hyperparameters.append(hyperparameters)

    def on_event(self, level, message):
        self.events.append(message)


def write_copy_task(folder):
    addresses = [f"{street}, {city}" for city in CITIES for street in STREETS]
    rows = [
        chat(f"Copy the delivery address from this message. {FRAMES[n % 2].format(address)}", address)
        for n, address in enumerate(addresses)
    ]
    return write_jsonl(folder / "copy.jsonl", rows[:16])


def fit(training_file, output_dir, hyperparameters=ONE_STEP, pause_after=None):
    recorder = Recorder(pause_after)
    config = TrainConfig(EMBEDDED_DEFAULT, training_file, output_dir, None, hyperparameters, device="cpu")
    result = train(config, recorder)
    return result, recorder


def test_copied_answers_get_a_lower_rate_than_invented_labels(tmp_path):
    copy, copy_calls = fit(write_copy_task(tmp_path), tmp_path / "copy-job")
    (tmp_path / "labels").mkdir()
    labels_file, _ = write_task(tmp_path / "labels", 16, 4)
    labels, label_calls = fit(labels_file, tmp_path / "label-job")

    copied, invented = copy.hyperparameters, labels.hyperparameters
    assert copied.answer_familiarity > 0.5 > 0.2 > invented.answer_familiarity
    assert copied.learning_rate < invented.learning_rate / 2
    # The job hears the values the run uses, and why.
    assert copy_calls.hyperparameters == [copied]
    assert any("predicts" in event and "of the answer tokens" in event for event in copy_calls.events)


def test_an_explicit_multiplier_is_not_measured_or_changed(tmp_path):
    result, calls = fit(write_copy_task(tmp_path), tmp_path / "job", {**ONE_STEP, "learning_rate_multiplier": 0.5})
    assert result.hyperparameters.answer_familiarity is None
    assert result.hyperparameters.learning_rate == pytest.approx(base_learning_rate(EMBEDDED_DEFAULT) / 2)
    assert not any("predicts" in event for event in calls.events)


def test_a_resumed_run_keeps_the_rate_it_started_with(tmp_path):
    training_file, two_steps = write_copy_task(tmp_path), {"n_epochs": 1, "batch_size": 8}
    paused, first = fit(training_file, tmp_path / "job", two_steps, pause_after=1)
    assert paused.status == "paused"
    resumed, second = fit(training_file, tmp_path / "job", two_steps)
    assert resumed.status == "succeeded" and resumed.resumed_from_step == 1
    assert second.hyperparameters == first.hyperparameters
    # Read back from the checkpoint, not measured again on the half-trained weights.
    assert not any("predicts" in event for event in second.events)
