"""Checkpoint folders: only complete ones count, and only the latest keeps resume state."""

from tests.ml.test_training import config
from workers.ml.checkpoints import RESUME_FILES, latest_resumable, list_checkpoints
from workers.ml.trainer import train


def test_half_written_checkpoints_are_ignored(tmp_path):
    root = tmp_path / "checkpoints"
    (root / ".step-000009-abc").mkdir(parents=True)  # a temp folder left by a killed worker
    (root / "step-000008").mkdir()  # no trainer_state.json: never finished
    assert list_checkpoints(tmp_path) == [] and latest_resumable(tmp_path) is None


def test_older_checkpoints_stay_servable_but_drop_resume_state(tiny_spec, tiny_data, tmp_path):
    train(config(tiny_spec, tiny_data, tmp_path))
    checkpoints = list_checkpoints(tmp_path / "job")
    assert [c.name for c in checkpoints] == ["step-000004", "step-000008", "step-000012"]
    for older in checkpoints[:-1]:
        assert (older / "adapter_model.safetensors").is_file() and (older / "tunery_adapter.json").is_file()
        assert not any((older / name).exists() for name in RESUME_FILES)
    assert latest_resumable(tmp_path / "job") == checkpoints[-1]
