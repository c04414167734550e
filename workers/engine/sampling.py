"""Choosing the next token of every row of a batch, each row with its own settings.

Rows differ in temperature, top_p, penalties and random generator, so only the parts that
are the same for all (log-softmax for logprobs, argmax for greedy rows) run batched; sampled
rows draw one by one from their own ``torch.Generator``, so a seeded request gets the same
tokens whatever else shares the batch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


@dataclass
class SamplingParams:
    """Fully resolved settings of one request (the model's defaults filled in)."""

    max_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    n: int = 1
    logprobs: bool = False
    top_logprobs: int = 0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0


@dataclass
class RowSampler:
    """Sampling state of one row: its settings, its generator (shared by the n choices of
    a request, which always step together in a fixed order) and its token counts."""

    params: SamplingParams
    generator: torch.Generator | None
    counts: Counter[int] = field(default_factory=Counter)

    @property
    def penalised(self) -> bool:
        return bool(self.counts) and (self.params.presence_penalty != 0.0 or self.params.frequency_penalty != 0.0)


@dataclass
class Choice:
    token_id: int
    logprob: float | None  # of the chosen token under the model's raw distribution
    top: list[tuple[int, float]]  # the most likely alternatives, best first


def make_generator(seed: int | None, device: torch.device) -> torch.Generator:
    import torch

    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()
    else:
        # torch only takes non-negative 64-bit seeds; OpenAI allows any 64-bit integer.
        generator.manual_seed(seed % 2**64)
    return generator


def _penalise(logits: torch.Tensor, sampler: RowSampler) -> torch.Tensor:
    """OpenAI's presence/frequency penalties: subtract per token already generated."""
    import torch

    ids = torch.tensor(list(sampler.counts), device=logits.device)
    counts = torch.tensor(list(sampler.counts.values()), device=logits.device, dtype=logits.dtype)
    penalty = sampler.params.frequency_penalty * counts + sampler.params.presence_penalty
    return logits.index_put((ids,), logits[ids] - penalty)


def _draw(logits: torch.Tensor, sampler: RowSampler) -> int:
    import torch

    params = sampler.params
    probs = torch.softmax(logits / params.temperature, dim=-1)
    if params.top_p < 1.0:
        # Nucleus: keep the smallest set of most likely tokens whose mass reaches top_p.
        sorted_probs, order = torch.sort(probs, descending=True)
        outside = torch.cumsum(sorted_probs, dim=-1) - sorted_probs >= params.top_p
        sorted_probs[outside] = 0.0
        choice = torch.multinomial(sorted_probs, 1, generator=sampler.generator)
        return int(order[choice])
    return int(torch.multinomial(probs, 1, generator=sampler.generator))


def choose(logits: torch.Tensor, samplers: list[RowSampler]) -> list[Choice]:
    """Next token for each row of ``logits`` [rows, vocab]."""
    import torch

    logits = logits.float()
    tokens = torch.argmax(logits, dim=-1).tolist()
    for row, sampler in enumerate(samplers):
        if sampler.params.greedy and not sampler.penalised:
            continue
        row_logits = _penalise(logits[row], sampler) if sampler.penalised else logits[row]
        tokens[row] = int(torch.argmax(row_logits)) if sampler.params.greedy else _draw(row_logits, sampler)
    wanted = [row for row, sampler in enumerate(samplers) if sampler.params.logprobs]
    logprobs: dict[int, tuple[float, list[tuple[int, float]]]] = {}
    if wanted:
        table = torch.log_softmax(logits[wanted], dim=-1)
        for position, row in enumerate(wanted):
            k = samplers[row].params.top_logprobs
            top = torch.topk(table[position], k) if k else None
            alternatives = list(zip(top.indices.tolist(), top.values.tolist())) if top is not None else []
            logprobs[row] = (float(table[position, tokens[row]]), alternatives)
    choices = []
    for row, sampler in enumerate(samplers):
        sampler.counts[tokens[row]] += 1
        logprob, top = logprobs.get(row, (None, []))
        choices.append(Choice(tokens[row], logprob, top))
    return choices
