"""Engine settings and the command line that fills them."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

from workers.ml.base_models import CATALOGUE, EMBEDDED_DEFAULT, BaseModelSpec

# vLLM's names for the weights' precision.
DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass
class EngineConfig:
    spec: BaseModelSpec
    served_name: str  # the ``model`` value that selects the bare base model
    device: str | None = None  # None: CUDA when available, else CPU
    dtype: str = "auto"  # one of DTYPES; auto: bf16 on a CUDA GPU that has it, else fp32
    max_batch_size: int = 16  # rows (choices) decoded together
    max_prefill_tokens: int = 4096
    adapter_memory_mb: float = 1024.0
    preload: list[tuple[str, str]] = field(default_factory=list)  # (name, folder) registered at start

    @property
    def max_seq_len(self) -> int:
        return self.spec.max_seq_len


def local_spec(path: str, max_seq_len: int | None, name: str | None) -> BaseModelSpec:
    """A base model from a Hugging Face folder; its context length defaults to the model's own."""
    folder = Path(path).resolve()
    if max_seq_len is None:
        config = json.loads((folder / "config.json").read_text())
        max_seq_len = int(config["max_position_embeddings"])
    return BaseModelSpec(
        name=name or folder.name, source="local", path=str(path), gguf_file=None, max_seq_len=max_seq_len
    )


def _lora_module(value: str) -> tuple[str, str]:
    name, sep, path = value.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError("expected NAME=PATH")
    return name, path


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m workers.engine", description="Tunery inference engine (OpenAI protocol)."
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--base-model", default=EMBEDDED_DEFAULT.name, choices=sorted(CATALOGUE), help="catalogue name")
    p.add_argument("--base-model-path", help="a local Hugging Face model folder instead of a catalogue entry")
    p.add_argument("--max-seq-len", type=int, help="context length (default: the catalogue's, or the model's config)")
    p.add_argument(
        "--served-model-name", help="name that selects the base model (default: its catalogue or folder name)"
    )
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    p.add_argument(
        "--dtype",
        choices=DTYPES,
        default="auto",
        help="weights' precision (auto: bfloat16 on a GPU that has it, else float32); "
        "bfloat16 on a CPU halves memory but needs AVX512_BF16 or AMX to be fast",
    )
    p.add_argument("--max-batch-size", type=int, default=16, help="choices decoded together in one step")
    p.add_argument("--max-prefill-tokens", type=int, default=4096, help="prompt tokens admitted per step")
    p.add_argument("--adapter-memory-mb", type=float, default=1024.0, help="memory budget for loaded LoRA weights")
    p.add_argument(
        "--lora-modules",
        nargs="*",
        type=_lora_module,
        default=[],
        metavar="NAME=PATH",
        help="adapters to register at start",
    )
    p.add_argument("--log-level", default="info")
    return p


def config_from_args(args: argparse.Namespace) -> EngineConfig:
    if args.base_model_path:
        spec = local_spec(args.base_model_path, args.max_seq_len, args.served_model_name)
    else:
        spec = CATALOGUE[args.base_model]
        if args.max_seq_len:
            spec = BaseModelSpec.from_dict({**spec.to_dict(), "max_seq_len": args.max_seq_len})
    return EngineConfig(
        spec=spec,
        served_name=args.served_model_name or spec.name,
        device=args.device,
        dtype=args.dtype,
        max_batch_size=args.max_batch_size,
        max_prefill_tokens=args.max_prefill_tokens,
        adapter_memory_mb=args.adapter_memory_mb,
        preload=list(args.lora_modules),
    )
