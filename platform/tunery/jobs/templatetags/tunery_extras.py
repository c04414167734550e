from django import template
from django.utils.html import format_html, format_html_join

from tunery.jobs import holdout

register = template.Library()


@register.filter
def percent(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


@register.filter
def models_of(evaluation: dict) -> list[tuple[str, dict]]:
    return [("base", evaluation["base"]), ("fine-tuned", evaluation["fine_tuned"])]


@register.filter
def evaluation_caveat(evaluation: dict) -> str | None:
    return holdout.evaluation_caveat(evaluation)


@register.filter
def field_accuracy(evaluation: dict) -> list[tuple[str, float, float]]:
    """(key, base, fine-tuned) for each top-level key of JSON answers."""
    base, tuned = evaluation["base"]["json_field_accuracy"], evaluation["fine_tuned"]["json_field_accuracy"]
    return [(key, base[key], tuned[key]) for key in tuned]


@register.filter
def prompt_text(prompt) -> str:
    """The last user message of a chat prompt, or the prompt text itself."""
    if isinstance(prompt, list):
        users = [m.get("content", "") for m in prompt if isinstance(m, dict) and m.get("role") == "user"]
        return users[-1] if users else ""
    return str(prompt)


@register.simple_tag
def confusion_matrix(matrix: dict | None):
    """A heat-map table: rows are the reference labels, columns the predicted ones."""
    if not matrix:
        return ""
    peak = max((max(row) for row in matrix["matrix"] if row), default=1) or 1
    header = format_html_join("", "<th>{}</th>", ((label,) for label in matrix["predicted_labels"]))
    rows = format_html_join(
        "",
        "<tr><th>{}</th>{}</tr>",
        (
            (
                label,
                format_html_join(
                    "", '<td style="background: rgba(79,70,229,{})">{}</td>', ((round(n / peak, 2), n) for n in row)
                ),
            )
            for label, row in zip(matrix["labels"], matrix["matrix"])
        ),
    )
    return format_html(
        '<table class="confusion"><thead><tr><th>reference ↓ / predicted →</th>{}</tr></thead>'
        "<tbody>{}</tbody></table>",
        header,
        rows,
    )


@register.filter
def split(value: str) -> list[str]:
    return value.split()


@register.filter
def duration(seconds) -> str:
    """45 s, 12 min, 3 h 20 min."""
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    return f"{seconds // 3600} h {round(seconds % 3600 / 60)} min"
