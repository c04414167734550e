"""Money is a Decimal of US dollars with six places (a millionth of a dollar), never a float:
per-token prices are fractions of a cent, and sums of many small charges must add up exactly."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PLACES = Decimal("0.000001")
CENT = Decimal("0.01")
MONEY_FIELD = {"max_digits": 18, "decimal_places": 6}
MAX_AMOUNT = Decimal(1_000_000_000)  # what a user may type: far above any real amount, far below the column's 10^12


def usd(value) -> Decimal:
    """A Decimal from a str, int or Decimal (floats are refused: they cannot hold cents exactly)."""
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a str or a Decimal")
    return Decimal(value).quantize(PLACES, rounding=ROUND_HALF_UP)


def parse_usd(text: str) -> Decimal | None:
    """A user-typed amount ('25', '25.50', '$25.50') as dollars with cents, or None if it is not one."""
    try:
        value = Decimal(str(text).strip().lstrip("$").replace(",", ""))
        if not value.is_finite() or abs(value) > MAX_AMOUNT or value != value.quantize(CENT):
            return None
    except (InvalidOperation, ValueError):
        return None
    return value.quantize(CENT)


def cost(tokens: int, price_per_million: Decimal) -> Decimal:
    return usd(Decimal(tokens) * price_per_million / Decimal(1_000_000))


def to_cents(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_cents(cents: int) -> Decimal:
    return usd(Decimal(cents) / 100)


def display(amount: Decimal | None) -> str:
    """$1,234.56 — small non-zero amounts keep their precision ($0.0042) rather than showing $0.00."""
    if amount is None:
        return "–"
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount and amount < CENT:
        return f"{sign}${amount.normalize():f}"
    return f"{sign}${amount.quantize(CENT, rounding=ROUND_HALF_UP):,}"
