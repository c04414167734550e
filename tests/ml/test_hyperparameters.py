"""Resolving "auto" and validating hyperparameters."""

import dataclasses

import pytest

from workers.ml.base_models import EMBEDDED_DEFAULT, LLAMA_LINEAR_MODULES
from workers.ml.errors import TrainingError
from workers.ml.hyperparameters import (
    BASE_LEARNING_RATE,
    FAMILIAR_SLOWDOWN,
    base_learning_rate,
    learning_rate_is_auto,
    resolve_hyperparameters,
)


def test_auto_uses_all_linear_lora_r16_and_scales_with_dataset_size():
    small = resolve_hyperparameters({}, 50, EMBEDDED_DEFAULT)
    assert small.lora_target_modules == LLAMA_LINEAR_MODULES
    assert (small.lora_r, small.lora_alpha) == (16, 32)
    assert small.n_epochs == 8  # 400 examples seen in all
    assert small.batch_size == 4
    assert small.learning_rate == base_learning_rate(EMBEDDED_DEFAULT) == 2e-3
    assert small.steps_per_epoch == 13 and small.total_steps == 104
    assert small.eval_interval == 13 and small.checkpoint_interval == 13  # 8 passes, at least one per epoch

    few_hundred = resolve_hyperparameters({}, 216, EMBEDDED_DEFAULT)
    assert (few_hundred.n_epochs, few_hundred.batch_size, few_hundred.eval_interval) == (3, 8, 11)

    medium = resolve_hyperparameters({}, 1000, EMBEDDED_DEFAULT)
    assert (medium.n_epochs, medium.batch_size) == (3, 32)

    large = resolve_hyperparameters({}, 100_000, EMBEDDED_DEFAULT)
    assert large.n_epochs == 1


def test_explicit_values_win_over_auto():
    hp = resolve_hyperparameters(
        {
            "n_epochs": 2,
            "batch_size": 8,
            "learning_rate_multiplier": 0.5,
            "lora_r": 4,
            "lora_target_modules": ["q_proj"],
            "max_seq_len": 256,
            "lr_scheduler": "cosine",
            "early_stopping_patience": 3,
            "eval_interval": 5,
        },
        100,
        EMBEDDED_DEFAULT,
    )
    assert (hp.n_epochs, hp.batch_size, hp.lora_r, hp.lora_alpha) == (2, 8, 4, 8.0)
    assert hp.learning_rate == base_learning_rate(EMBEDDED_DEFAULT) / 2
    assert hp.lora_target_modules == ["q_proj"] and hp.max_seq_len == 256 and hp.lr_scheduler == "cosine"
    assert hp.early_stopping_patience == 3 and hp.eval_interval == 5
    assert hp.checkpoint_interval == hp.steps_per_epoch == 13


def test_auto_strings_and_round_trip():
    hp = resolve_hyperparameters({"n_epochs": "auto", "batch_size": "auto"}, 100, EMBEDDED_DEFAULT)
    assert type(hp).from_dict(hp.to_dict()) == hp


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"n_epochs": 0}, "n_epochs", "between"),
        ({"n_epochs": 1.5}, "n_epochs", "whole number"),
        ({"n_epochs": True}, "n_epochs", "whole number"),
        ({"batch_size": "big"}, "batch_size", 'or "auto"'),
        ({"batch_size": 500}, "batch_size", "more than the 100 training examples"),
        ({"learning_rate_multiplier": -1}, "learning_rate_multiplier", "between"),
        ({"lora_dropout": 1.0}, "lora_dropout", "between"),
        ({"lora_target_modules": "q_proj"}, "lora_target_modules", "list"),
        ({"max_seq_len": 100_000}, "max_seq_len", "8192"),
        ({"lr_scheduler": "exponential"}, "lr_scheduler", "linear, cosine, constant"),
        ({"learning_rate": 0.1}, "learning_rate", "unknown hyperparameter"),
    ],
)
def test_invalid_values_are_refused_naming_the_field(raw, field, words):
    with pytest.raises(TrainingError) as error:
        resolve_hyperparameters(raw, 100, EMBEDDED_DEFAULT)
    assert error.value.code == "invalid_hyperparameter"
    assert error.value.param == f"hyperparameters.{field}"
    assert error.value.message.startswith(field) and words in error.value.message


def test_the_auto_learning_rate_shrinks_with_the_models_width():
    wide = dataclasses.replace(EMBEDDED_DEFAULT, hidden_size=4096)
    assert resolve_hyperparameters({}, 200, wide).learning_rate == pytest.approx(2e-3 * 576 / 4096)
    unknown = dataclasses.replace(EMBEDDED_DEFAULT, hidden_size=None)
    assert resolve_hyperparameters({}, 200, unknown).learning_rate == BASE_LEARNING_RATE


def test_the_auto_rate_falls_as_the_base_model_already_predicts_more_of_the_answers():
    def rate(accuracy):
        return resolve_hyperparameters({}, 216, EMBEDDED_DEFAULT, answer_familiarity=accuracy)

    unguessable, half, copied = rate(0.0), rate(0.5), rate(0.85)
    assert unguessable.learning_rate == pytest.approx(base_learning_rate(EMBEDDED_DEFAULT))
    assert unguessable.learning_rate > half.learning_rate > copied.learning_rate
    assert copied.learning_rate_multiplier == pytest.approx(FAMILIAR_SLOWDOWN ** -(0.85**2), abs=1e-3)
    # A few familiar tokens (a code's separators) barely lower the rate; mostly familiar answers do.
    assert rate(0.1).learning_rate_multiplier > 0.95 and copied.learning_rate_multiplier < 0.2
    assert copied.answer_familiarity == 0.85
    # The multiplier is the resolved value a user can copy into a new job for the same rate.
    assert copied.learning_rate == pytest.approx(base_learning_rate(EMBEDDED_DEFAULT) * copied.learning_rate_multiplier)
    # Without a measurement (a cost estimate, job preparation) the rate is the model's base rate.
    assert resolve_hyperparameters({}, 216, EMBEDDED_DEFAULT).learning_rate_multiplier == 1.0


def test_an_explicit_multiplier_ignores_what_the_base_model_predicts():
    hp = resolve_hyperparameters({"learning_rate_multiplier": 0.5}, 216, EMBEDDED_DEFAULT, answer_familiarity=0.9)
    assert hp.learning_rate == pytest.approx(base_learning_rate(EMBEDDED_DEFAULT) / 2)
    assert not learning_rate_is_auto({"learning_rate_multiplier": 0.5})
    assert learning_rate_is_auto({"learning_rate_multiplier": "auto"}) and learning_rate_is_auto({})
