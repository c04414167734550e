"""The validation hold-out: a job without a validation file keeps 10% of its examples aside for
validation and the base-vs-fine-tuned evaluation (the worker splits; estimates count on it)."""

HELD_OUT_FRACTION = 0.1
HOLD_OUT_FROM = 20  # examples; smaller files without a validation file are trained whole


def examples_to_train(n_examples: int, has_validation_file: bool) -> int:
    """How many of the training file's examples training sees: all of them, or what is left
    after the hold-out (split's rounding). "auto" epochs and batch size follow this number."""
    if has_validation_file or n_examples < HOLD_OUT_FROM:
        return n_examples
    return n_examples - round(n_examples * HELD_OUT_FRACTION)


# Held-out rows share the training file's phrasings, names and formats, so scores on them run
# high: a routing task scored 0.875 exact match there and 0.52 on new phrasings (docs/training.md).
IN_DISTRIBUTION_CAVEAT = (
    "In-distribution: expect lower on new data. These scores come from examples held out of the "
    "training file, which share its phrasings, names and formats. For a fair estimate, upload a "
    "separate validation file drawn from the data the model will really see."
)


def evaluation_caveat(evaluation: dict | None) -> str | None:
    """What to keep in mind when reading an evaluation, from where its examples came."""
    if evaluation and evaluation.get("validation_source") == "training_file":
        return IN_DISTRIBUTION_CAVEAT
    return None
