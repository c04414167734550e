"""How much of a task the base model already knows, measured before the first step.

The share of answer tokens that the untrained model already predicts with confidence
(probability above 1/e, i.e. loss below 1 nat) on a sample of the training examples separates
two kinds of task that want very different learning rates (docs/training.md, "The learning
rate follows what the base model already knows"):

- answers the base cannot guess — invented labels or codes: a share near 0. The model must
  learn new mappings, and a high rate learns them in the few hundred steps a job has;
- answers mostly copied or reformatted from the prompt — extraction, rewriting, summaries of a
  conversation: a share of 0.65–0.85. The model only needs steering into the format, and a
  high rate overwrites the copying skill it already has, so it fails on unseen names and
  sentence shapes while its in-distribution validation stays perfect.

Greedy token accuracy separates them less well: in a code like "NV-SH-L" the separators are
the model's top guess, but an unsure one, and the task still needs the high rate.

``hyperparameters.auto_learning_rate_multiplier`` turns the share into the rate.
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


def measure_familiarity(
    model: PreTrainedModel, examples: Sequence[EncodedExample], pad_token_id: int, device: torch.device
) -> float:
    """Share of the sample's trained tokens that ``model`` predicts with probability above 1/e."""
    import torch

    sample = familiarity_sample(examples)
    n_confident = n_tokens = 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(sample), BATCH_SIZE):
            stats = token_stats(model, collate(sample[start : start + BATCH_SIZE], pad_token_id, device))
            n_confident += stats.n_confident
            n_tokens += stats.n_tokens
    model.train()
    return n_confident / n_tokens if n_tokens else 0.0
