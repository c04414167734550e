"""Deduplicate, shuffle and split: new files, deterministic, and proportions that hold."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.data.factories import chat
from workers.ml.data import deduplicate, shuffle, split
from workers.ml.errors import TrainingError


def lines(path):
    return path.read_text().splitlines()


def test_deduplicate_keeps_first_occurrences_in_order(write_lines, tmp_path):
    rows = [chat(0), chat(1), chat(0), chat(2), chat(1)]
    src = write_lines(rows, newline="\r\n")
    original = src.read_bytes()

    result = deduplicate(src, tmp_path / "dedup.jsonl")

    assert (result.n_in, result.n_out) == (5, 3)
    assert [json.loads(line) for line in lines(tmp_path / "dedup.jsonl")] == [chat(0), chat(1), chat(2)]
    assert src.read_bytes() == original


def test_shuffle_is_deterministic_for_a_seed(write_lines, tmp_path):
    src = write_lines([chat(i) for i in range(50)])

    shuffle(src, tmp_path / "a.jsonl", seed=7)
    shuffle(src, tmp_path / "b.jsonl", seed=7)
    shuffle(src, tmp_path / "c.jsonl", seed=8)

    assert lines(tmp_path / "a.jsonl") == lines(tmp_path / "b.jsonl") != lines(tmp_path / "c.jsonl")
    assert sorted(lines(tmp_path / "a.jsonl")) == sorted(lines(src))
    assert lines(tmp_path / "a.jsonl") != lines(src)


def test_split_by_ratio(write_lines, tmp_path):
    src = write_lines([chat(i) for i in range(100)], name="all.jsonl")

    result = split(src, tmp_path / "train.jsonl", tmp_path / "val.jsonl", validation_fraction=0.2, seed=1)

    assert (result.n_train, result.n_validation, result.stratified) == (80, 20, False)
    train, val = lines(tmp_path / "train.jsonl"), lines(tmp_path / "val.jsonl")
    assert (len(train), len(val)) == (80, 20)
    assert sorted(train + val) == sorted(lines(src))


def test_class_like_data_is_split_stratified(write_lines, tmp_path):
    labels = ["spam"] * 90 + ["ham"] * 30 + ["eggs"] * 10
    src = write_lines([chat(i, answer=label) for i, label in enumerate(labels)], name="all.jsonl")

    result = split(src, tmp_path / "train.jsonl", tmp_path / "val.jsonl", validation_fraction=0.1, seed=3)

    assert result.stratified
    assert result.classes == {
        "spam": {"train": 81, "validation": 9},
        "ham": {"train": 27, "validation": 3},
        "eggs": {"train": 9, "validation": 1},
    }
    val_labels = Counter(json.loads(line)["messages"][-1]["content"] for line in lines(tmp_path / "val.jsonl"))
    assert val_labels == {"spam": 9, "ham": 3, "eggs": 1}


def test_split_is_deterministic_for_a_seed(write_lines, tmp_path):
    src = write_lines([chat(i) for i in range(40)])

    split(src, tmp_path / "t1.jsonl", tmp_path / "v1.jsonl", seed=5)
    split(src, tmp_path / "t2.jsonl", tmp_path / "v2.jsonl", seed=5)

    assert lines(tmp_path / "v1.jsonl") == lines(tmp_path / "v2.jsonl")


def test_stratification_on_free_text_is_refused(write_lines, tmp_path):
    src = write_lines([chat(i) for i in range(40)])

    with pytest.raises(TrainingError) as caught:
        split(src, tmp_path / "t.jsonl", tmp_path / "v.jsonl", stratify=True)

    assert caught.value.code == "invalid_split"


def test_a_split_that_leaves_a_side_empty_is_refused(write_lines, tmp_path):
    src = write_lines([chat(i) for i in range(3)])

    with pytest.raises(TrainingError):
        split(src, tmp_path / "t.jsonl", tmp_path / "v.jsonl", validation_fraction=0.1)
    assert not (tmp_path / "t.jsonl").exists()


def test_an_output_may_not_overwrite_the_input(write_lines):
    src = write_lines([chat(i) for i in range(20)])
    original = src.read_bytes()

    with pytest.raises(ValueError):
        shuffle(src, src, seed=1)

    assert src.read_bytes() == original


def test_transforms_refuse_unvalidated_input(write_lines, tmp_path):
    src = write_lines([chat(0), "{broken"])

    with pytest.raises(TrainingError) as caught:
        deduplicate(src, tmp_path / "out.jsonl")

    assert "Line 2" in caught.value.message
    assert not (tmp_path / "out.jsonl").exists()
