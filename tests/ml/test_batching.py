"""Length-grouped batch order and dynamic padding."""

import random

import torch

from workers.ml.batching import collate, length_grouped_batches, split_micro_batches
from workers.ml.chat_format import IGNORE_INDEX, EncodedExample

_rng = random.Random(1)
LENGTHS = [_rng.randint(5, 500) for _ in range(300)]


def padded_tokens(batches, lengths):
    return sum(len(b) * max(lengths[i] for i in b) for b in batches)


def test_every_example_once_per_epoch_in_full_batches():
    batches = length_grouped_batches(LENGTHS, 8, seed=1, epoch=0)
    assert sorted(i for b in batches for i in b) == list(range(300))
    assert sorted(len(b) for b in batches)[1:] == [8] * (len(batches) - 1)  # one remainder batch


def test_order_depends_only_on_seed_and_epoch():
    assert length_grouped_batches(LENGTHS, 8, 1, 0) == length_grouped_batches(LENGTHS, 8, 1, 0)
    assert length_grouped_batches(LENGTHS, 8, 1, 0) != length_grouped_batches(LENGTHS, 8, 1, 1)
    assert length_grouped_batches(LENGTHS, 8, 1, 0) != length_grouped_batches(LENGTHS, 8, 2, 0)


def test_grouping_by_length_cuts_padding():
    grouped = padded_tokens(length_grouped_batches(LENGTHS, 8, 1, 0), LENGTHS)
    order = list(range(300))
    random.Random(1).shuffle(order)
    shuffled = padded_tokens([order[i : i + 8] for i in range(0, 300, 8)], LENGTHS)
    assert grouped < 0.7 * shuffled
    assert sum(LENGTHS) / grouped > 0.85  # few padding tokens left


def test_costliest_batch_comes_first_so_memory_errors_surface_at_step_one():
    batches = length_grouped_batches(LENGTHS, 8, 1, 3)
    assert max(LENGTHS[i] for i in batches[0]) == max(LENGTHS)


def test_micro_batches_split_evenly():
    assert split_micro_batches([1, 2, 3, 4, 5], 2) == [[1, 2, 3], [4, 5]]
    assert split_micro_batches([1, 2, 3, 4], 1) == [[1, 2, 3, 4]]


def test_collate_pads_right_and_masks_padding():
    examples = [EncodedExample([5, 6, 7], [IGNORE_INDEX, 6, 7], 1), EncodedExample([8], [8], 2)]
    batch = collate(examples, pad_token_id=0, device="cpu")
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[IGNORE_INDEX, 6, 7], [8, IGNORE_INDEX, IGNORE_INDEX]]
    assert batch["input_ids"].dtype == torch.long
