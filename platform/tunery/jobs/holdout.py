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
