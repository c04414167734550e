"""Batch order and padding.

Examples of similar length are batched together so that dynamic padding (to the longest row
of each batch, not to max_seq_len) wastes few tokens; that is most of the speed difference to
padding every batch to the maximum length. The order depends only on (seed, epoch), never on
global random state, so a run resumed mid-epoch replays exactly the batches it would have seen.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from workers.ml.chat_format import IGNORE_INDEX, EncodedExample

if TYPE_CHECKING:
    import torch

# Examples are sorted by length within windows of this many batches: large enough to group
# lengths well, small enough that each batch is still a random draw from the data.
GROUPING_WINDOW_BATCHES = 16


def length_grouped_batches(lengths: Sequence[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Indices of every example, in batches of ``batch_size`` (the last may be shorter)."""
    rng = random.Random(seed * 100_003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * GROUPING_WINDOW_BATCHES
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: -lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    # The most expensive batch goes first, so an out-of-memory setting fails at step 1, not hours in.
    costliest = max(range(len(batches)), key=lambda b: len(batches[b]) * max(lengths[i] for i in batches[b]))
    batches.insert(0, batches.pop(costliest))
    return batches


def split_micro_batches(batch: list[int], n_parts: int) -> list[list[int]]:
    size = -(-len(batch) // n_parts)
    return [batch[i : i + size] for i in range(0, len(batch), size)]


def collate(
    examples: Sequence[EncodedExample], pad_token_id: int, device: torch.device | str
) -> dict[str, torch.Tensor]:
    """Right-pad to the longest example; padding is masked out of attention and loss."""
    import torch

    width = max(len(example) for example in examples)
    input_ids = torch.full((len(examples), width), pad_token_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    attention_mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example)
        input_ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        attention_mask[row, :n] = 1
    return {
        "input_ids": input_ids.to(device),
        "attention_mask": attention_mask.to(device),
        "labels": labels.to(device),
    }
