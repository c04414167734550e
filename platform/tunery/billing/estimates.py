"""What a job will cost and how long it will take, before it starts: the training file's
tokens × epochs ("auto" resolved the way training resolves it) at the base model's price."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from tunery.billing.models import Price
from tunery.billing.money import cost, display
from tunery.billing.prices import current_price


@dataclass
class JobEstimate:
    tokens_per_epoch: int
    n_epochs: int
    price: Price | None
    tokens_per_second: float
    throughput_from_history: bool

    @property
    def trained_tokens(self) -> int:
        return self.tokens_per_epoch * self.n_epochs

    @property
    def amount(self) -> Decimal:
        return cost(self.trained_tokens, self.price.training_per_million) if self.price else Decimal(0)

    @property
    def seconds(self) -> float:
        return self.trained_tokens / self.tokens_per_second

    def to_dict(self) -> dict:
        return {
            "object": "fine_tuning.job.estimate",
            "trained_tokens": self.trained_tokens,
            "tokens_per_epoch": self.tokens_per_epoch,
            "n_epochs": self.n_epochs,
            "price_per_million_tokens": str(self.price.training_per_million) if self.price else None,
            "estimated_cost": str(self.amount),
            "estimated_cost_display": display(self.amount),
            "currency": "usd",
            "estimated_seconds": round(self.seconds),
            "duration_basis": "recent jobs on this base model"
            if self.throughput_from_history
            else "default throughput (no finished jobs on this base model yet)",
        }


def estimate_job(
    base_model, training_file, n_epochs: int, n_train_examples: int, measured: float | None
) -> JobEstimate:
    """`n_train_examples` is what training sees (the file less a validation hold-out); its
    tokens are the file's in proportion, since which examples are held out is decided later.
    `measured` is the base model's recent training throughput in tokens/s, if it has one."""
    stats = (training_file.report or {}).get("stats", {})
    n_examples = training_file.n_examples or 1
    tokens_per_epoch = round(int(stats.get("total_tokens") or 0) * min(n_train_examples, n_examples) / n_examples)
    return JobEstimate(
        tokens_per_epoch=tokens_per_epoch,
        n_epochs=n_epochs,
        price=current_price(base_model),
        tokens_per_second=measured or settings.TUNERY_DEFAULT_TRAINING_TOKENS_PER_SECOND,
        throughput_from_history=measured is not None,
    )
