"""``tunery_adapter.json``: what serving needs to reproduce the training setup exactly.

The exact chat template, special tokens and stop tokens used in training travel with the
adapter, so the engine formats prompts the way the model learned them even if the base
model's tokenizer files change later.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workers.ml.base_models import BaseModelSpec

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

MANIFEST = "tunery_adapter.json"
MANIFEST_VERSION = 1


def build_manifest(
    spec: BaseModelSpec,
    tokenizer: PreTrainedTokenizerBase,
    data_format: str,
    hyperparameters: dict[str, Any],
    step: int,
) -> dict[str, Any]:
    special = {
        role: {"token": getattr(tokenizer, f"{role}_token"), "id": getattr(tokenizer, f"{role}_token_id")}
        for role in ("bos", "eos", "pad", "unk")
        if getattr(tokenizer, f"{role}_token", None) is not None
    }
    return {
        "version": MANIFEST_VERSION,
        "base_model": spec.name,
        "base_model_spec": spec.to_dict(),
        "data_format": data_format,  # "chat", "completion" or "mixed"
        "chat_template": tokenizer.chat_template,
        "special_tokens": special,
        # OpenAI defaults; stop at end of turn, as the loss taught the model to emit it.
        "generation": {
            "eos_token_ids": [tokenizer.eos_token_id],
            "temperature": 1.0,
            "top_p": 1.0,
            "max_new_tokens": 512,
        },
        "max_seq_len": hyperparameters["max_seq_len"],
        "hyperparameters": hyperparameters,
        "step": step,
    }


def read_manifest(adapter_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(adapter_dir) / MANIFEST).read_text())


def write_manifest(adapter_dir: Path, manifest: dict[str, Any]) -> None:
    (adapter_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
