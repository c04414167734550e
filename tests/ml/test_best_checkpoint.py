"""The adapter keeps the weights of the best validation pass, judged on answers, not the last."""

import random

import pytest
from safetensors.torch import load_file

from tests.ml.conftest import chat, write_jsonl
from workers.ml.answer_probe import answer_score, probe_items
from workers.ml.chat_format import encode_dataset
from workers.ml.checkpoints import checkpoint_dir
from workers.ml.trainer import TrainConfig, TrainingCallbacks, train

QUESTIONS = ["Is the sky blue", "Is fire cold", "Is water wet", "Is ice hot", "Do fish swim", "Do rocks fly"]


class Recorder(TrainingCallbacks):
    def __init__(self) -> None:
        self.evals, self.events = [], []

    def on_eval(self, metrics):
        self.evals.append(metrics)

    def on_event(self, level, message):
        self.events.append(message)


def test_the_adapter_is_the_best_validation_pass_when_training_runs_past_it(tiny_spec, tmp_path):
    # Validation answers contradict the training answers: the more the model learns the
    # training file, the worse it does on validation, so the best pass comes before the end.
    train_rows = [chat(f"{q}? ({i})", "yes") for i in range(4) for q in QUESTIONS]
    validation_rows = [chat(f"{q}? ({i})", "no") for i in range(4, 6) for q in QUESTIONS]
    config = TrainConfig(
        base_model=tiny_spec,
        training_file=write_jsonl(tmp_path / "train.jsonl", train_rows),
        validation_file=write_jsonl(tmp_path / "validation.jsonl", validation_rows),
        output_dir=tmp_path / "job",
        hyperparameters={"n_epochs": 4, "batch_size": 4, "learning_rate_multiplier": 20, "eval_interval": 2},
        device="cpu",
        seed=random.randrange(2**31),  # holds on every seed (checked on 6 in a row)
    )
    recorder = Recorder()
    result = train(config, recorder)

    assert all(e.answer_metric == "exact_match" and e.answer_score is not None for e in recorder.evals)
    best = min(recorder.evals, key=lambda e: (-e.answer_score, e.validation_loss))
    assert result.best_step == best.step < result.step, f"seed {config.seed}"
    kept = load_file(result.adapter_dir / "adapter_model.safetensors")
    at_best = load_file(checkpoint_dir(config.output_dir, best.step) / "adapter_model.safetensors")
    at_end = load_file(checkpoint_dir(config.output_dir, result.step) / "adapter_model.safetensors")
    assert all((kept[name] == at_best[name]).all() for name in kept)
    assert any((kept[name] != at_end[name]).any() for name in kept)
    assert any(f"weights of step {best.step}" in message for message in recorder.events)


def test_probe_prompts_end_where_the_answer_starts(tokenizer):
    rows = [(1, chat("Is fire cold?", "no")), (2, {"prompt": "Capital of France:", "completion": " Paris"})]
    encoded, _ = encode_dataset(tokenizer, rows, 256, "truncate")
    items = probe_items(encoded, tokenizer)
    assert [item.reference for item in items] == ["no", "Paris"]
    assert tokenizer.decode(items[0].prompt_ids).rstrip().endswith("assistant")
    assert tokenizer.decode(items[1].prompt_ids) == "Capital of France:"


@pytest.mark.parametrize(
    ("references", "answers", "metric", "value"),
    [
        (["billing", "tech", "billing", "tech"], ["billing", "Tech", "sales", "billing"], "exact_match", 0.5),
        (['{"a": 1, "b": "x"}', '{"a": 2, "b": "y"}'], ['{"a": 1, "b": "z"}', "not json"], "json_field_accuracy", 0.25),
        (
            ["the cat sat on the mat today", "a dog ran in the park this morning"],
            ["the cat sat on the mat today", ""],
            "token_f1",
            0.5,
        ),
    ],
)
def test_each_kind_of_answer_is_scored_by_its_own_metric(references, answers, metric, value):
    score = answer_score(references, answers)
    assert score.metric == metric and score.value == pytest.approx(value)
