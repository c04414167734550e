"""LoRA adapters: which names the engine serves, and which of them are in memory.

Two layers, because they live on different threads:

- ``AdapterRegistry`` (any thread): name → folder plus what serving needs from the adapter's
  tunery_adapter.json (chat template, end-of-turn ids, default sampling). A registered adapter
  is servable whether or not its weights are loaded right now.
- ``AdapterPool`` (scheduler thread only, since loading restacks the LoRA weights inside the
  model, see ``lora.py``): the loaded adapters in least-recently-used order within a byte
  budget. Loading past the budget evicts the least recently used adapter that no running
  request holds; a later request for it reloads it from its folder.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workers.engine.errors import bad_request, server_error
from workers.ml.manifest import MANIFEST, read_manifest

if TYPE_CHECKING:
    from workers.engine.lora import LoraStack, LoraWeights
    from workers.ml.base_models import BaseModelSpec

log = logging.getLogger(__name__)

WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin")


@dataclass(frozen=True)
class SamplingDefaults:
    """Used for whatever a request leaves out: the settings the adapter was trained for."""

    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int | None = None  # None: up to the context length


@dataclass(frozen=True)
class AdapterInfo:
    name: str
    path: Path
    chat_template: str | None  # None: the base tokenizer's template
    eos_token_ids: tuple[int, ...]
    defaults: SamplingDefaults
    file_bytes: int
    created: int = field(default_factory=lambda: int(time.time()))


def _matches_base(manifest: dict[str, Any], spec: BaseModelSpec) -> bool:
    trained_on = manifest.get("base_model_spec") or {}
    return manifest.get("base_model") == spec.name or (spec.path is not None and trained_on.get("path") == spec.path)


def read_adapter(name: str, path: str, spec: BaseModelSpec, base_eos: int) -> AdapterInfo:
    """Check an adapter folder and read what serving needs; 400 (param ``lora_path``) if unusable.

    Folders without tunery_adapter.json (plain peft adapters) are served with the base
    tokenizer's template and OpenAI's default sampling.
    """
    folder = Path(path)
    if not (folder / "adapter_config.json").is_file():
        raise bad_request(f"No LoRA adapter at {path}: adapter_config.json is missing.", "lora_path")
    weights = next((folder / f for f in WEIGHT_FILES if (folder / f).is_file()), None)
    if weights is None:
        raise bad_request(f"No LoRA adapter at {path}: the adapter weights file is missing.", "lora_path")
    from workers.engine.lora import UnsupportedAdapter, check_config  # torch: loaded on first use

    try:
        check_config(json.loads((folder / "adapter_config.json").read_text()))
    except (ValueError, UnsupportedAdapter) as exc:
        raise bad_request(f"The adapter cannot be served: {exc}.", "lora_path") from None
    if not (folder / MANIFEST).is_file():
        return AdapterInfo(name, folder, None, (base_eos,), SamplingDefaults(), weights.stat().st_size)
    try:
        manifest = read_manifest(folder)
        generation = manifest["generation"]
        info = AdapterInfo(
            name,
            folder,
            manifest["chat_template"],
            tuple(generation["eos_token_ids"]),
            SamplingDefaults(generation["temperature"], generation["top_p"], generation["max_new_tokens"]),
            weights.stat().st_size,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise bad_request(f"The adapter's {MANIFEST} is not readable ({exc}).", "lora_path") from None
    if not _matches_base(manifest, spec):
        raise bad_request(
            f"The adapter was trained on {manifest.get('base_model')!r}; this engine serves {spec.name!r}.", "lora_path"
        )
    return info


class AdapterRegistry:
    def __init__(self) -> None:
        self._adapters: dict[str, AdapterInfo] = {}
        self._lock = threading.Lock()

    def add(self, info: AdapterInfo) -> None:
        """Register ``info``; an existing name must point at the same folder (re-registering is a no-op)."""
        with self._lock:
            known = self._adapters.get(info.name)
            if known is not None and known.path != info.path:
                raise bad_request(
                    f"The adapter {info.name!r} is already loaded from {known.path}; unload it first.", "lora_name"
                )
            self._adapters.setdefault(info.name, info)

    def remove(self, name: str) -> AdapterInfo | None:
        with self._lock:
            return self._adapters.pop(name, None)

    def get(self, name: str) -> AdapterInfo | None:
        with self._lock:
            return self._adapters.get(name)

    def all(self) -> list[AdapterInfo]:
        with self._lock:
            return list(self._adapters.values())


@dataclass
class _Loaded:
    info: AdapterInfo
    slot: str  # its name in the stack: a reloaded adapter gets a new one while the old is still in use
    pins: int = 0  # running requests using it; a pinned adapter is never evicted


class AdapterPool:
    def __init__(self, stack: LoraStack, budget_bytes: int) -> None:
        self.stack = stack
        self.budget_bytes = budget_bytes
        self._by_name: OrderedDict[str, _Loaded] = OrderedDict()  # least recently used first
        self._retired: list[_Loaded] = []  # dropped while pinned: unloaded when the last user finishes
        self._slots = 0
        self.loads = 0  # how many times weights were read from disk (for tests and metrics)

    @property
    def used_bytes(self) -> int:
        """The stacked weights of every loaded adapter (retired ones included), rank padding included."""
        return self.stack.nbytes

    def loaded_names(self) -> list[str]:
        return list(self._by_name)

    def acquire(self, info: AdapterInfo) -> str:
        """Pin the adapter (loading it if needed); returns its stack slot for forward passes."""
        entry = self._by_name.get(info.name)
        if entry is None or entry.info.path != info.path:
            entry = self._load(info)
        self._by_name.move_to_end(info.name)
        entry.pins += 1
        return entry.slot

    def release(self, name: str, slot: str) -> None:
        entry = self._by_name.get(name)
        if entry is not None and entry.slot == slot:
            entry.pins -= 1
            return
        for retired in self._retired:
            if retired.slot == slot:
                retired.pins -= 1
                if retired.pins == 0:
                    self._retired.remove(retired)
                    self.stack.remove(retired.slot)
                return

    def discard(self, name: str) -> None:
        """Forget ``name``: unload now, or once the requests using it finish."""
        entry = self._by_name.pop(name, None)
        if entry is not None:
            self._retire(entry)

    def _retire(self, entry: _Loaded) -> None:
        if entry.pins:
            self._retired.append(entry)
        else:
            self.stack.remove(entry.slot)

    def _load(self, info: AdapterInfo) -> _Loaded:
        from workers.engine.lora import read_lora

        try:
            weights = read_lora(info.path, self.stack.model)
        except Exception as exc:  # a corrupt, mismatched or unsupported folder: many error types
            log.exception("Loading adapter %s from %s failed", info.name, info.path)
            raise server_error(
                f"The adapter {info.name!r} could not be loaded from {info.path}: {exc}", "adapter_load_failed"
            ) from None
        self.loads += 1
        self._make_room(weights)
        self._slots += 1
        entry = _Loaded(info, f"slot{self._slots}")
        self.stack.add(entry.slot, weights)
        stale = self._by_name.pop(info.name, None)
        if stale is not None:
            self._retire(stale)
        self._by_name[info.name] = entry
        return entry

    def _make_room(self, incoming: LoraWeights) -> None:
        for name in list(self._by_name):
            if self.stack.nbytes_with(incoming) <= self.budget_bytes:
                return
            if self._by_name[name].pins == 0:
                log.info("Evicting adapter %s to stay within the adapter memory budget", name)
                self.stack.remove(self._by_name.pop(name).slot)
        if self.stack.nbytes_with(incoming) > self.budget_bytes:
            # Every loaded adapter is serving a request: going over beats failing it; the next
            # load evicts again once they are idle.
            log.warning("Adapter memory budget exceeded: all loaded adapters are in use")
