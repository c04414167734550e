"""Loss and token accuracy on trained (assistant) tokens, shared by training and evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from workers.ml.chat_format import IGNORE_INDEX

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel


@dataclass
class TokenStats:
    loss_sum: torch.Tensor  # summed cross-entropy over trained tokens (keeps the graph)
    n_correct: int  # trained tokens whose greedy prediction is the label
    n_tokens: int  # trained tokens
    n_confident: int  # trained tokens predicted with probability above 1/e (loss below 1 nat)


def token_stats(model: PreTrainedModel, batch: dict[str, torch.Tensor]) -> TokenStats:
    """Run ``model`` on a padded batch and score next-token predictions where labels are set.

    The output projection runs only at trained positions: with a 49k vocabulary it is about a
    fifth of SmolLM2's compute per token, and most tokens of a chat (prompt, system) carry no
    loss. Summing (not averaging) lets callers normalise over a whole accumulated batch.
    """
    import torch.nn.functional as F

    targets_all = batch["labels"][:, 1:]
    keep = targets_all != IGNORE_INDEX
    hidden = model.get_decoder()(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False
    ).last_hidden_state
    logits = output_logits(model, hidden[:, :-1][keep])
    targets = targets_all[keep]
    losses = F.cross_entropy(logits, targets, reduction="none")
    n_correct = int((logits.detach().argmax(dim=-1) == targets).sum())
    n_confident = int((losses.detach() < 1.0).sum())
    return TokenStats(losses.sum(), n_correct, int(targets.numel()), n_confident)


def output_logits(model: PreTrainedModel, hidden: torch.Tensor) -> torch.Tensor:
    """Next-token logits (float32) for selected hidden states only, with the model's final
    soft-capping where it has one."""
    import torch

    logits = model.get_output_embeddings()(hidden).float()
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits
