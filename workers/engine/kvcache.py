"""The key/value cache of the running batch, for continuous batching.

Every row (one choice of one request) keeps its own keys and values, left-padded to the
batch's common length, with a 2-D attention mask marking the padding. Rows join between decode
steps (their freshly prefilled cache is padded to fit, or the batch is padded to fit them) and
leave between steps (their rows are dropped, and padding columns that no row needs any more are
trimmed), so each step costs one forward pass over exactly the live rows.

Rotary positions were applied when keys were cached, so padding never shifts them; the model
only needs each row's next position id, which is its count of real tokens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from transformers import DynamicCache


def _left_pad(tensor: torch.Tensor, width: int, dim: int) -> torch.Tensor:
    import torch.nn.functional as F

    if width == 0:
        return tensor
    # F.pad lists (left, right) pairs from the last dimension backwards.
    pad = [0, 0] * (tensor.dim() - 1 - (dim % tensor.dim())) + [width, 0]
    return F.pad(tensor, pad)


def check_supported(cache: DynamicCache) -> None:
    """Only full-attention layers can be padded and trimmed like this (not sliding windows)."""
    from transformers.cache_utils import DynamicLayer

    unsupported = {type(layer).__name__ for layer in cache.layers if type(layer) is not DynamicLayer}
    if unsupported:
        raise ValueError(f"The engine does not support cache layers of type {', '.join(sorted(unsupported))}.")


class BatchCache:
    def __init__(self) -> None:
        self.cache: DynamicCache | None = None
        self.mask: torch.Tensor | None = None  # [rows, length], 1 for real tokens

    @property
    def rows(self) -> int:
        return 0 if self.mask is None else self.mask.shape[0]

    def add(self, cache: DynamicCache, mask: torch.Tensor) -> None:
        """Append the rows of a prefilled ``cache`` (with its ``mask``) after the current rows."""
        import torch

        if self.cache is None or self.mask is None:
            self.cache, self.mask = cache, mask
            return
        length = max(self.mask.shape[1], mask.shape[1])
        for mine, theirs in zip(self.cache.layers, cache.layers):
            mine.keys = torch.cat(
                [
                    _left_pad(mine.keys, length - mine.keys.shape[-2], -2),
                    _left_pad(theirs.keys, length - theirs.keys.shape[-2], -2),
                ]
            )
            mine.values = torch.cat(
                [
                    _left_pad(mine.values, length - mine.values.shape[-2], -2),
                    _left_pad(theirs.values, length - theirs.values.shape[-2], -2),
                ]
            )
        self.mask = torch.cat(
            [_left_pad(self.mask, length - self.mask.shape[1], -1), _left_pad(mask, length - mask.shape[1], -1)]
        )

    def keep(self, rows: list[int]) -> None:
        """Keep only ``rows`` (in that order); drop padding columns no remaining row needs."""
        import torch

        if self.cache is None or self.mask is None:
            return
        if not rows:
            self.cache = self.mask = None
            return
        index = torch.tensor(rows, device=self.mask.device)
        mask = self.mask[index]
        first = int(torch.argmax(mask.any(dim=0).to(torch.int8)))  # first column any row uses
        self.mask = mask[:, first:]
        for layer in self.cache.layers:
            layer.keys = layer.keys[index, :, first:]
            layer.values = layer.values[index, :, first:]

    def next_step(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Grow the mask by one column for the tokens being fed now; return it and their positions."""
        import torch

        assert self.mask is not None
        positions = self.mask.sum(dim=1, keepdim=True)
        self.mask = torch.cat([self.mask, torch.ones_like(self.mask[:, :1])], dim=1)
        return self.mask, positions
