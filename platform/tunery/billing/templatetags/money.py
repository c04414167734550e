from decimal import Decimal

from django import template

from tunery.billing.money import display

register = template.Library()


@register.filter
def usd(value) -> str:
    """$1,234.56 from a Decimal or its string (as the summaries carry it)."""
    if value in (None, ""):
        return "–"
    return display(Decimal(str(value)))
