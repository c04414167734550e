"""The price book: which Price row applies to a base model at a moment."""

from decimal import Decimal

from django.utils import timezone

from tunery.billing.models import Price

# The first price of a catalogue entry, by its price class (USD per 1M tokens). Operators
# change prices in the admin by adding a new version.
DEFAULT_PRICES = {
    "small": {
        "training_per_million": Decimal("0.50"),
        "input_per_million": Decimal("0.10"),
        "output_per_million": Decimal("0.20"),
    },
}


def current_price(base_model, at=None) -> Price | None:
    return (
        Price.objects.filter(base_model=base_model, effective_from__lte=at or timezone.now())
        .order_by("-effective_from", "-pk")
        .first()
    )
