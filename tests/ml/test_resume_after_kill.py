"""A worker SIGKILLed mid-run resumes from its last checkpoint and ends with the same weights."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from tests.ml.test_training import FAST
from workers.ml.trainer import TrainConfig, train

REPO = Path(__file__).resolve().parents[2]

# Trains in a child process and blocks inside step 6 (after the epoch-1 checkpoint at step 4),
# announcing it through a marker file so the test can kill it at a known point.
CHILD = """
import json, sys, time
from pathlib import Path
from workers.ml.base_models import BaseModelSpec
from workers.ml.trainer import TrainConfig, TrainingCallbacks, train

spec, train_file, validation_file, output_dir, hyperparameters, marker = json.loads(sys.argv[1])

class Hang(TrainingCallbacks):
    def on_step(self, metrics):
        if metrics.step == 6:
            Path(marker).write_text("6")
            time.sleep(600)

train(TrainConfig(BaseModelSpec.from_dict(spec), Path(train_file), Path(output_dir), Path(validation_file),
                  hyperparameters, device="cpu"), Hang())
"""


def test_resume_after_sigkill_reaches_the_uninterrupted_result(tiny_spec, tiny_data, tmp_path):
    train_file, validation_file = tiny_data
    killed_dir, marker = tmp_path / "killed", tmp_path / "at-step-6"
    args = [tiny_spec.to_dict(), str(train_file), str(validation_file), str(killed_dir), FAST, str(marker)]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(args)],
        cwd=REPO,
        # Same thread count as this process (see conftest): float sums must add up identically.
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, child.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the child never reached step 6"
            time.sleep(0.2)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert not (killed_dir / "adapter").exists()

    resumed = train(TrainConfig(tiny_spec, train_file, killed_dir, validation_file, FAST, device="cpu"))
    assert resumed.resumed_from_step == 4 and resumed.status == "succeeded"

    straight = train(TrainConfig(tiny_spec, train_file, tmp_path / "straight", validation_file, FAST, device="cpu"))
    a = load_file(resumed.adapter_dir / "adapter_model.safetensors")
    b = load_file(straight.adapter_dir / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert resumed.validation_loss == straight.validation_loss
