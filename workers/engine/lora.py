"""Many LoRA adapters over one base model, each batch row with its own, in one forward pass.

Every linear layer that a loaded adapter targets is wrapped in a ``LoraLinear`` holding all
loaded adapters' weights stacked: ``a`` [adapters, rank, in] and ``b`` [out, adapters, rank],
with the adapter's ``lora_alpha / r`` folded into ``b`` and ranks zero-padded to the largest
loaded one (zero padding adds nothing, so results are exact). For a forward pass the runner
selects an adapter (or none) per row; each wrapped layer takes the blocks of the adapters that
the batch uses, side by side, and updates every row at once:

    h = x @ A_used.T              # [rows, tokens, used × rank]: each used adapter's down-projection
    h = h * mask                  # keep the block of the row's own adapter (none for base rows)
    y = base(x) + h @ B_used.T    # and its up-projection, already scaled

Two matmuls per layer however the rows are spread over adapters, instead of peft's loop with
a gather, two small matmuls and a scatter per adapter. The masked-out blocks cost FLOPs, not
weight reads: each used adapter's weights are read once per layer, as in a single-adapter
batch, and on CPU (and at small batch sizes on GPU) a decode step is bound by those reads.

Adapters are peft LoRA folders (``adapter_config.json`` + weights) on ``nn.Linear`` layers,
including ``rank_pattern``/``alpha_pattern`` and rsLoRA; DoRA, ``modules_to_save``, LoRA
biases and non-linear targets (embeddings, GPT-2's Conv1D) are refused. Dropout does not
apply at inference.
"""

from __future__ import annotations

import ctypes
import json
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

KEY = re.compile(r"base_model\.model\.(?P<module>.+)\.lora_(?P<which>[AB])\.weight")
UNSUPPORTED_OPTIONS = ("use_dora", "modules_to_save", "lora_bias", "trainable_token_indices", "target_parameters")


class UnsupportedAdapter(ValueError):
    pass


@dataclass(frozen=True)
class LoraWeights:
    """One adapter read from its folder: per target module, ``a`` [r, in] and scaled ``b`` [out, r]."""

    layers: dict[str, tuple[torch.Tensor, torch.Tensor]]

    @property
    def rank(self) -> int:
        return max(a.shape[0] for a, _ in self.layers.values())


def check_config(config: dict[str, Any]) -> None:
    """Refuse what the stacked layers cannot apply, from ``adapter_config.json`` alone."""
    if config.get("peft_type", "LORA") != "LORA":
        raise UnsupportedAdapter(f"only LoRA adapters are served, not {config['peft_type']}")
    if used := [option for option in UNSUPPORTED_OPTIONS if config.get(option)]:
        raise UnsupportedAdapter(f"adapter options not supported by this engine: {', '.join(used)}")


def _load_state(folder: Path) -> dict[str, torch.Tensor]:
    if (folder / "adapter_model.safetensors").is_file():
        from safetensors.torch import load_file

        return load_file(folder / "adapter_model.safetensors")
    return torch.load(folder / "adapter_model.bin", map_location="cpu", weights_only=True)


def read_lora(folder: str | Path, model: nn.Module) -> LoraWeights:
    """Read and check an adapter against ``model``; ``UnsupportedAdapter`` (or an I/O error) if unusable."""
    from peft.utils.other import get_pattern_key  # peft's own rank/alpha pattern matching

    folder = Path(folder)
    config = json.loads((folder / "adapter_config.json").read_text())
    check_config(config)
    pairs: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in _load_state(folder).items():
        match = KEY.fullmatch(key)
        if match is None:
            raise UnsupportedAdapter(f"unexpected weight {key!r}: only LoRA on linear layers is supported")
        pairs.setdefault(match["module"], {})[match["which"]] = tensor
    if not pairs:
        raise UnsupportedAdapter("the adapter has no LoRA weights")
    alpha_pattern = config.get("alpha_pattern") or {}
    reference = next(model.parameters())
    layers = {}
    for name, pair in pairs.items():
        try:
            target = model.get_submodule(name)
        except AttributeError:
            raise UnsupportedAdapter(f"the base model has no layer {name!r}") from None
        base = target.base if isinstance(target, LoraLinear) else target
        a, b = pair.get("A"), pair.get("B")
        if type(base) is not nn.Linear or a is None or b is None:
            raise UnsupportedAdapter(f"{name!r} is not a LoRA-adapted linear layer")
        rank = a.shape[0]
        if a.shape != (rank, base.in_features) or b.shape != (base.out_features, rank):
            raise UnsupportedAdapter(f"the weights of {name!r} do not fit the base model's layer")
        alpha = alpha_pattern.get(get_pattern_key(alpha_pattern.keys(), name), config["lora_alpha"])
        scale = alpha / (math.sqrt(rank) if config.get("use_rslora") else rank)
        to = {"device": reference.device, "dtype": reference.dtype}
        layers[name] = (a.to(**to).contiguous(), (b.float() * scale).to(**to).contiguous())
    return LoraWeights(layers)


@dataclass
class _Selection:
    """Which stacked adapters a forward pass uses, and which rows use which."""

    used: list[int]  # stack positions, ascending
    mask: torch.Tensor | None  # [rows, 1, used × rank]; None when every row uses the one adapter


class LoraLinear(nn.Module):
    """A base linear layer plus the stacked LoRA weights of every loaded adapter."""

    def __init__(self, base: nn.Linear, stack: LoraStack, adapters: int) -> None:
        super().__init__()
        self.base = base
        self.stack = stack  # not a submodule: shared by every wrapped layer
        # Adapters already loaded do not target this layer: rank 0 until ``restack`` pads it.
        self.a = base.weight.new_zeros(adapters, 0, base.in_features)
        self.b = base.weight.new_zeros(base.out_features, adapters, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base(x)
        selection = self.stack.selection
        if selection is None:
            return out
        a, b = self._blocks(selection.used)
        h = F.linear(x, a)
        if selection.mask is not None:
            h = h * selection.mask
        return out + F.linear(h, b)

    def _blocks(self, used: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """The used adapters' ``a`` [used × rank, in] and ``b`` [out, used × rank]; views when adjacent."""
        rank = self.a.shape[1]
        first, count = used[0], len(used)
        if used[-1] - first + 1 == count:
            a, b = self.a[first : first + count], self.b[:, first : first + count]
        else:
            index = torch.tensor(used, device=self.a.device)
            a, b = self.a.index_select(0, index), self.b.index_select(1, index)
        return a.reshape(count * rank, -1), b.reshape(-1, count * rank)

    def restack(self, keep: list[int], rank: int, incoming: tuple[torch.Tensor, torch.Tensor] | None) -> None:
        """Keep the adapters at stack positions ``keep``, zero-pad or trim them to ``rank``, then
        append ``incoming`` (a, b) if given."""
        index = torch.tensor(keep, dtype=torch.long, device=self.a.device)
        a, b = self.a.index_select(0, index)[:, :rank], self.b.index_select(1, index)[:, :, :rank]
        a, b = F.pad(a, (0, 0, 0, rank - a.shape[1])), F.pad(b, (0, rank - b.shape[2]))
        if incoming is not None:
            new_a, new_b = incoming
            a = torch.cat([a, F.pad(new_a, (0, 0, 0, rank - new_a.shape[0])).unsqueeze(0)])
            b = torch.cat([b, F.pad(new_b, (0, rank - new_b.shape[1])).unsqueeze(1)], dim=1)
        self.a, self.b = a.contiguous(), b.contiguous()


@dataclass(frozen=True)
class _Entry:
    slot: str
    rank: int
    targets: frozenset[str]


class LoraStack:
    """The loaded adapters of ``model``, stacked in its linear layers; scheduler thread only."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self._entries: list[_Entry] = []  # stack order
        self._layers: dict[str, LoraLinear] = {}
        self.selection: _Selection | None = None

    @property
    def nbytes(self) -> int:
        """What the stacked weights take now, zero padding included."""
        return sum(layer.a.nbytes + layer.b.nbytes for layer in self._layers.values())

    def nbytes_with(self, incoming: LoraWeights) -> int:
        """What they would take with ``incoming`` added."""
        entries = [*self._entries, _Entry("", incoming.rank, frozenset(incoming.layers))]
        rank = max(entry.rank for entry in entries)
        widths = 0
        for name in frozenset().union(*(entry.targets for entry in entries)):
            module = self.model.get_submodule(name)
            linear = module.base if isinstance(module, LoraLinear) else module
            widths += linear.in_features + linear.out_features
        return len(entries) * rank * widths * next(self.model.parameters()).element_size()

    def add(self, slot: str, weights: LoraWeights) -> None:
        self._rebuild([*self._entries, _Entry(slot, weights.rank, frozenset(weights.layers))], weights)

    def remove(self, slot: str) -> None:
        self._rebuild([entry for entry in self._entries if entry.slot != slot], None)

    def _rebuild(self, entries: list[_Entry], incoming: LoraWeights | None) -> None:
        """Restack for ``entries`` (the current ones in order, minus removed, plus ``incoming``
        last): layers nobody targets any more are unwrapped, newly targeted ones wrapped."""
        position = {entry.slot: i for i, entry in enumerate(self._entries)}
        keep = [position[entry.slot] for entry in entries if entry.slot in position]
        rank = max((entry.rank for entry in entries), default=0)
        targets = frozenset().union(*(entry.targets for entry in entries))
        for name in set(self._layers) - targets:
            self.model.set_submodule(name, self._layers.pop(name).base)
        for name in sorted(targets):
            layer = self._layers.get(name)
            if layer is None:
                layer = self._layers[name] = LoraLinear(self.model.get_submodule(name), self, len(self._entries))
                self.model.set_submodule(name, layer)
            pair = None if incoming is None else incoming.layers.get(name) or _zeros(layer.base)
            layer.restack(keep, rank, pair)
        self._entries = entries
        self.selection = None
        if _malloc_trim is not None:
            # The previous stacks were just freed; glibc would keep their pages (without this,
            # 20 loads grew the engine's RSS by ~1.5× the stacked weights on CPU).
            _malloc_trim(0)

    @contextmanager
    def selected(self, slots: list[str | None]) -> Iterator[None]:
        """Apply ``slots[i]`` (None: the bare base model) to row ``i`` during the forward passes inside."""
        position = {entry.slot: i for i, entry in enumerate(self._entries)}
        used = sorted({position[slot] for slot in slots if slot is not None})
        if not used:
            self.selection = None
        elif len(used) == 1 and None not in slots:
            self.selection = _Selection(used, None)
        else:
            rank = max(entry.rank for entry in self._entries)
            block = {p: i for i, p in enumerate(used)}
            layer = next(iter(self._layers.values()))
            mask = layer.a.new_zeros(len(slots), len(used), rank)
            for row, slot in enumerate(slots):
                if slot is not None:
                    mask[row, block[position[slot]]] = 1
            self.selection = _Selection(used, mask.reshape(len(slots), 1, -1))
        try:
            yield
        finally:
            self.selection = None


def _find_malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None


_malloc_trim = _find_malloc_trim()


def _zeros(linear: nn.Linear) -> tuple[torch.Tensor, torch.Tensor]:
    weight = linear.weight
    return weight.new_zeros(1, linear.in_features), weight.new_zeros(linear.out_features, 1)
