"""An evaluation's results as the page shows them: one row per metric, one column per model,
the best value of each row marked, and the bar chart's data."""

from collections.abc import Callable
from decimal import Decimal

from django.contrib.humanize.templatetags.humanize import intcomma

from tunery.billing.money import display
from tunery.jobs.templatetags.tunery_extras import percent

MAIN_METRICS = {
    "exact_match": "Exact match",
    "json_field_accuracy": "JSON fields right (mean)",
    "token_f1": "Word F1",
}


def short_name(name: str) -> str:
    """`ft:<base>:<org>:<suffix>:<id>[:ckpt-step-N]` as `<suffix or id>[ step N]`; base names as they are."""
    parts = name.split(":")
    if parts[0] != "ft" or len(parts) < 5:
        return name
    label = parts[3] or parts[4]
    return f"{label} {parts[4]} step {parts[5].removeprefix('ckpt-step-')}" if len(parts) > 5 else f"{label} {parts[4]}"


def _three(value) -> str:
    return f"{value:.3f}"


def _usd(value) -> str:
    return display(Decimal(value))


def metric_rows(results: dict) -> list[dict]:
    models = results["models"]
    rows: list[dict] = []

    def add(label: str, values: list, show: Callable, better: str | None = "higher", row_id: str = "") -> None:
        texts = ["—" if v is None else show(v) for v in values]
        known = [v for v in values if v is not None]
        # The best as shown: no mark when every model shows the same figure.
        best = show((max if better == "higher" else min)(known)) if better and len(set(texts)) > 1 else None
        cells = [{"text": text, "best": text == best} for text in texts]
        rows.append({"label": label, "cells": cells, "id": row_id})

    def metric(key: str) -> list:
        return [m["metrics"].get(key) for m in models]

    def confidence(key: str) -> list:
        return [m["confidence"][key] if m["confidence"] else None for m in models]

    main = results["main_metric"]
    show_main = _three if main == "token_f1" else percent
    add(f"{MAIN_METRICS[main]} (main metric)", [m["answer_score"] for m in models], show_main, row_id="main-metric")
    if main != "exact_match":
        add("Exact match", metric("exact_match_accuracy"), percent)
    if results.get("labels"):
        add("Macro F1", metric("macro_f1"), _three)
        add("Confidence: mean probability of the likeliest label", confidence("mean_confidence"), percent, None)
        add("Likeliest label right (by log-probability)", confidence("top_label_accuracy"), percent)
        add("Probability given to the right label", confidence("mean_reference_probability"), percent)
    if results["answer_kind"] == "json":
        add("Valid JSON object", metric("json_valid_rate"), percent)
        add("Whole object right", metric("json_object_match"), percent)
        for key in models[0]["metrics"].get("json_field_accuracy") or {}:
            add(f"Field {key} right", [(m["metrics"]["json_field_accuracy"] or {}).get(key) for m in models], percent)
    if results["answer_kind"] == "text":
        if main != "token_f1":
            add("Word F1", metric("token_f1"), _three)
        add("ROUGE-L", metric("rouge_l"), _three)
    add("Wrong answers", [m["n_wrong"] for m in models], lambda n: f"{n} of {results['n_answered']}", "lower")
    add("Loss", metric("loss"), lambda v: f"{v:.4f}", "lower")
    add("Perplexity", metric("perplexity"), lambda v: f"{v:.2f}", "lower")
    add("Token accuracy", metric("token_accuracy"), percent)
    add("Prompt tokens", [m["usage"]["prompt_tokens"] for m in models], intcomma, None)
    add("Completion tokens", [m["usage"]["completion_tokens"] for m in models], intcomma, None)
    add("Cost of this run", [Decimal(m["cost"]) for m in models], _usd, "lower", row_id="run-cost")
    training = [Decimal(m["training_cost"]) if m["training_cost"] is not None else None for m in models]
    add("Training cost", training, _usd, None, row_id="training-cost")
    add("Time", [m["seconds"] for m in models], lambda s: f"{s:.1f} s", None)
    return rows


def chart_data(results: dict) -> dict:
    main = results["main_metric"]
    return {
        "metric": MAIN_METRICS[main],
        "labels": [short_name(m["model"]) for m in results["models"]],
        "values": [m["answer_score"] for m in results["models"]],
        "costs": [display(Decimal(m["cost"])) for m in results["models"]],
    }
