"""Adapter folders and resumable checkpoints on disk.

Layout under a job's output folder::

    checkpoints/step-000012/   adapter_model.safetensors, adapter_config.json, tunery_adapter.json,
                               trainer_state.json, optimizer.pt, scheduler.pt, rng.pt
    adapter/                   the final adapter (same three adapter files)

Every folder is written under a temporary name and renamed into place, so a worker killed
mid-write (SIGKILL, OOM killer, lost node) leaves either a complete checkpoint or none, and a
resume never reads a half-written one. Each checkpoint is itself a servable adapter; only the
latest keeps the optimizer/RNG state needed to resume, to bound disk use.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workers.ml.manifest import write_manifest

if TYPE_CHECKING:
    import torch
    from peft import PeftModel

TRAINER_STATE = "trainer_state.json"
RESUME_FILES = ("optimizer.pt", "scheduler.pt", "rng.pt")
CHECKPOINT_PREFIX = "step-"


def write_atomically(target: Path, fill: Callable[[Path], None]) -> Path:
    """Fill a temp sibling of ``target`` and rename it over ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        fill(scratch)
        if target.exists():  # a re-run of the same step after a crash: replace it
            shutil.rmtree(target)
        os.rename(scratch, target)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return target


def save_adapter_files(model: PeftModel, folder: Path, manifest: dict[str, Any]) -> None:
    model.save_pretrained(folder, safe_serialization=True)
    write_manifest(folder, manifest)


def checkpoint_dir(output_dir: Path, step: int) -> Path:
    return output_dir / "checkpoints" / f"{CHECKPOINT_PREFIX}{step:06d}"


def list_checkpoints(output_dir: Path) -> list[Path]:
    """Completed checkpoints, oldest first (temp folders start with a dot and are skipped)."""
    root = output_dir / "checkpoints"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.name.startswith(CHECKPOINT_PREFIX) and (p / TRAINER_STATE).is_file())


def latest_resumable(output_dir: Path) -> Path | None:
    resumable = [p for p in list_checkpoints(output_dir) if all((p / name).is_file() for name in RESUME_FILES)]
    return resumable[-1] if resumable else None


def save_checkpoint(
    output_dir: Path,
    step: int,
    model: PeftModel,
    manifest: dict[str, Any],
    trainer_state: dict[str, Any],
    resume_state: dict[str, Any],
) -> Path:
    """Write one checkpoint; ``resume_state`` maps each of RESUME_FILES' stems to a state dict."""
    import torch

    def fill(folder: Path) -> None:
        save_adapter_files(model, folder, manifest)
        for name in RESUME_FILES:
            torch.save(resume_state[name.removesuffix(".pt")], folder / name)
        # Written last: its presence marks the checkpoint complete (see list_checkpoints).
        (folder / TRAINER_STATE).write_text(json.dumps(trainer_state, indent=2, sort_keys=True))

    path = write_atomically(checkpoint_dir(output_dir, step), fill)
    for older in list_checkpoints(output_dir):
        if older != path:
            for name in RESUME_FILES:
                (older / name).unlink(missing_ok=True)
    return path


def read_trainer_state(folder: Path) -> dict[str, Any]:
    return json.loads((folder / TRAINER_STATE).read_text())


def load_checkpoint(folder: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, torch.Tensor]]:
    """(trainer_state, resume_state, adapter_weights) of a checkpoint written by save_checkpoint."""
    import torch

    trainer_state = read_trainer_state(folder)
    resume_state = {
        name.removesuffix(".pt"): torch.load(folder / name, map_location="cpu", weights_only=True)
        for name in RESUME_FILES
    }
    return trainer_state, resume_state, adapter_weights(folder)


def adapter_weights(folder: Path) -> dict[str, torch.Tensor]:
    """The LoRA weights of an adapter or checkpoint folder (older checkpoints keep only these)."""
    from safetensors.torch import load_file

    return load_file(folder / "adapter_model.safetensors")
