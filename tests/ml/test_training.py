"""The training loop on a tiny random Llama: learning, metrics, files, stop, early stopping, errors."""

import json
import math

import pytest
import torch
from safetensors.torch import load_file

from workers.ml.errors import TrainingError
from workers.ml.trainer import TrainConfig, TrainingCallbacks, train

# A tiny random model learns slowly at LoRA's usual rate; a high one keeps these tests short.
# Validation once per epoch, so checkpoints fall on epoch ends (a new best pass adds one).
FAST = {"n_epochs": 3, "batch_size": 4, "learning_rate_multiplier": 20, "eval_interval": "epoch"}


class Recorder(TrainingCallbacks):
    def __init__(self, stop_at: int | None = None, request: str = "cancel") -> None:
        self.steps, self.evals, self.checkpoints, self.events = [], [], [], []
        self.heartbeats = 0
        self.stop_at, self.request = stop_at, request

    def on_step(self, metrics):
        self.steps.append(metrics)

    def on_eval(self, metrics):
        self.evals.append(metrics)

    def on_checkpoint(self, checkpoint):
        self.checkpoints.append(checkpoint)

    def on_event(self, level, message):
        self.events.append((level, message))

    def heartbeat(self):
        self.heartbeats += 1

    def should_stop(self):
        return self.request if self.stop_at is not None and len(self.steps) >= self.stop_at else None


def config(tiny_spec, tiny_data, tmp_path, **overrides):
    train_file, validation_file = tiny_data
    hyperparameters = {**FAST, **overrides.pop("hyperparameters", {})}
    return TrainConfig(
        base_model=tiny_spec,
        training_file=train_file,
        validation_file=validation_file,
        output_dir=tmp_path / "job",
        hyperparameters=hyperparameters,
        device="cpu",
        **overrides,
    )


def adapter_weights(folder):
    return load_file(folder / "adapter_model.safetensors")


def test_training_lowers_loss_and_reports_sane_metrics(tiny_spec, tiny_data, tmp_path, tokenizer):
    recorder = Recorder()
    result = train(config(tiny_spec, tiny_data, tmp_path), recorder)

    assert result.status == "succeeded" and result.step == result.total_steps == 12
    steps = recorder.steps
    assert [m.step for m in steps] == list(range(1, 13))
    assert steps[-1].epoch == 3.0 and steps[3].epoch == 1.0
    assert all(0.0 <= m.token_accuracy <= 1.0 and m.tokens > 0 and m.tokens_per_second > 0 for m in steps)
    assert steps[-1].eta_seconds == 0.0 and steps[0].eta_seconds > 0
    assert steps[-1].tokens_seen == result.tokens_seen == 3 * result.data_report.total_tokens
    # Warmup then linear decay: the rate rises from 0, peaks at the set rate, then falls.
    rates = [m.learning_rate for m in steps]
    assert rates[0] == 0.0 and max(rates) == pytest.approx(5e-4 * 20) and rates[-1] < max(rates)

    evals = recorder.evals
    assert [e.step for e in evals] == [4, 8, 12]  # once per epoch
    assert evals[-1].validation_loss < evals[0].validation_loss < math.log(len(tokenizer)) + 0.5
    assert steps[-1].train_loss < steps[0].train_loss
    assert recorder.heartbeats >= 12


def test_adapter_and_manifest_are_written(tiny_spec, tiny_data, tmp_path, tokenizer):
    result = train(config(tiny_spec, tiny_data, tmp_path, hyperparameters={"n_epochs": 1}))
    adapter = result.adapter_dir
    assert {"adapter_model.safetensors", "adapter_config.json", "tunery_adapter.json"} <= {
        p.name for p in adapter.iterdir()
    }
    manifest = json.loads((adapter / "tunery_adapter.json").read_text())
    assert manifest["base_model"] == "tiny-random-llama"
    assert manifest["chat_template"] == tokenizer.chat_template
    assert manifest["special_tokens"]["eos"] == {"token": "<|im_end|>", "id": tokenizer.eos_token_id}
    assert manifest["generation"]["eos_token_ids"] == [tokenizer.eos_token_id]
    assert manifest["data_format"] == "chat"
    assert manifest["hyperparameters"] == result.hyperparameters.to_dict()
    assert json.loads((adapter / "adapter_config.json").read_text())["r"] == 16
    json.dumps(result.to_dict())  # a Celery task can store it as is


def test_same_seed_gives_same_weights(tiny_spec, tiny_data, tmp_path):
    first = train(config(tiny_spec, tiny_data, tmp_path / "a", hyperparameters={"n_epochs": 1}))
    second = train(config(tiny_spec, tiny_data, tmp_path / "b", hyperparameters={"n_epochs": 1}))
    a, b = adapter_weights(first.adapter_dir), adapter_weights(second.adapter_dir)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_cancel_stops_within_a_step_and_keeps_checkpoints(tiny_spec, tiny_data, tmp_path):
    recorder = Recorder(stop_at=6)  # asked to stop after step 6, i.e. mid second epoch
    result = train(config(tiny_spec, tiny_data, tmp_path), recorder)

    assert result.status == "cancelled" and result.adapter_dir is None
    assert len(recorder.steps) == 6 and result.step == 6
    assert [c.step for c in result.checkpoints] == [4]
    assert (tmp_path / "job" / "checkpoints" / "step-000004" / "adapter_model.safetensors").is_file()


def test_pause_saves_a_checkpoint_and_resume_matches_an_uninterrupted_run(tiny_spec, tiny_data, tmp_path):
    paused = train(config(tiny_spec, tiny_data, tmp_path / "paused"), Recorder(stop_at=6, request="pause"))
    assert paused.status == "paused" and [c.step for c in paused.checkpoints] == [4, 6]

    resumed = train(config(tiny_spec, tiny_data, tmp_path / "paused"), recorder := Recorder())
    assert resumed.status == "succeeded" and resumed.resumed_from_step == 6
    assert [m.step for m in recorder.steps] == list(range(7, 13))

    straight = train(config(tiny_spec, tiny_data, tmp_path / "straight"))
    a, b = adapter_weights(resumed.adapter_dir), adapter_weights(straight.adapter_dir)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert resumed.tokens_seen == straight.tokens_seen


def test_early_stopping_after_patience_evaluations_without_improvement(tiny_spec, tiny_data, tmp_path):
    # A zero learning rate never improves validation loss: stop after 1 + patience evaluations.
    recorder = Recorder()
    result = train(
        config(
            tiny_spec,
            tiny_data,
            tmp_path,
            hyperparameters={
                "n_epochs": 10,
                "learning_rate_multiplier": 0.001,
                "early_stopping_patience": 2,
                "eval_interval": 1,
            },
        ),
        recorder,
    )
    assert result.status == "succeeded" and result.stopped_early
    assert result.step == 3 and len(recorder.evals) == 3
    assert result.adapter_dir is not None and any("Stopped early" in m for _, m in recorder.events)


def test_out_of_memory_names_batch_size_and_length(tiny_spec, tiny_data, tmp_path, monkeypatch):
    def exhausted(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr("workers.ml.trainer.token_stats", exhausted)
    with pytest.raises(TrainingError) as error:
        train(config(tiny_spec, tiny_data, tmp_path))
    assert error.value.code == "out_of_memory" and error.value.param == "hyperparameters.batch_size"
    assert "batch size 4" in error.value.message and "batch_size 2" in error.value.message
    assert "tokens" in error.value.message


def test_unknown_lora_target_is_a_plain_error(tiny_spec, tiny_data, tmp_path):
    with pytest.raises(TrainingError) as error:
        train(config(tiny_spec, tiny_data, tmp_path, hyperparameters={"lora_target_modules": ["attention_xyz"]}))
    assert error.value.param == "hyperparameters.lora_target_modules"


def test_missing_training_file_is_a_plain_error(tiny_spec, tmp_path):
    with pytest.raises(TrainingError) as error:
        train(TrainConfig(tiny_spec, tmp_path / "nope.jsonl", tmp_path / "job", device="cpu"))
    assert error.value.param == "training_file"


def test_continuing_a_fine_tuned_model_starts_from_its_adapter(tiny_spec, tiny_data, tiny_adapter, tmp_path):
    fresh, continued = Recorder(), Recorder()
    train(config(tiny_spec, tiny_data, tmp_path / "fresh", hyperparameters={"n_epochs": 1}), fresh)
    result = train(
        config(
            tiny_spec,
            tiny_data,
            tmp_path / "continued",
            init_adapter_dir=tiny_adapter,
            hyperparameters={"n_epochs": 1, "lora_r": 4},
        ),
        continued,
    )
    assert json.loads((result.adapter_dir / "adapter_config.json").read_text())["r"] == 16  # the parent's shape
    assert continued.steps[0].train_loss < fresh.steps[0].train_loss
