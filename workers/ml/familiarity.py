"""How much of a task the base model already knows, measured before the first step.

The share of answer tokens that the untrained model already predicts (greedy token accuracy on
a sample of the training examples) separates two kinds of task that want very different
learning rates (docs/training.md, "Learning-quality benchmark"):

- answers the base cannot guess — invented labels or codes: token accuracy near 0. The model
  must learn new mappings, and a high rate learns them in the few hundred steps a job has;
- answers mostly copied or reformatted from the prompt — extraction, rewriting, summaries of a
  conversation: token accuracy 0.7–0.85. The model only needs steering into the format, and a
  high rate overwrites the copying skill it already has, so it fails on unseen names and
  sentence shapes while its in-distribution validation stays perfect.

``hyperparameters.auto_learning_rate_multiplier`` turns the accuracy into the rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from workers.ml.batching import collate
from workers.ml.chat_format import EncodedExample
from workers.ml.losses import token_stats

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel

# Enough examples for a stable share (their answers hold hundreds of tokens), few enough that
# the measurement costs a few seconds on a CPU.
SAMPLE_SIZE = 32
BATCH_SIZE = 8


def familiarity_sample(examples: Sequence[EncodedExample], size: int = SAMPLE_SIZE) -> list[EncodedExample]:
    """Examples spread evenly over the file, so one region of it cannot decide alone."""
    stride = max(1, len(examples) // size)
    return list(examples[::stride][:size])


def base_token_accuracy(
    model: PreTrainedModel, examples: Sequence[EncodedExample], pad_token_id: int, device: torch.device
) -> float:
    """Share of the sample's trained tokens that ``model`` predicts greedily."""
    import torch

    sample = familiarity_sample(examples)
    n_correct = n_tokens = 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(sample), BATCH_SIZE):
            stats = token_stats(model, collate(sample[start : start + BATCH_SIZE], pad_token_id, device))
            n_correct += stats.n_correct
            n_tokens += stats.n_tokens
    model.train()
    return n_correct / n_tokens if n_tokens else 0.0
