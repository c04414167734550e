"""Incremental text: stop strings are held back until they can no longer match, and never returned."""

from __future__ import annotations

import pytest

from workers.engine.text import TextStream
from workers.ml.base_models import load_tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer()


def stream_text(tokenizer, text: str, stop: list[str]) -> tuple[list[str], bool]:
    stream = TextStream(tokenizer, stop)
    deltas, stopped = [], False
    for token in tokenizer(text, add_special_tokens=False)["input_ids"]:
        stopped = stream.push(token)
        deltas.append(stream.release(final=stopped)[0])
        if stopped:
            break
    if not stopped:
        deltas.append(stream.release(final=True)[0])
    return deltas, stopped


def test_text_before_a_stop_string_is_returned_and_the_stop_is_not(tokenizer):
    deltas, stopped = stream_text(tokenizer, "Hello world. END of it", ["END"])
    assert stopped and "".join(deltas) == "Hello world. "


def test_a_possible_stop_prefix_is_held_back_then_released(tokenizer):
    deltas, stopped = stream_text(tokenizer, "one two three", ["two three four"])
    assert not stopped and "".join(deltas) == "one two three"
    assert deltas[-1].endswith("two three")  # held back until the end showed it was no stop


def test_multibyte_characters_are_never_split(tokenizer):
    deltas, _ = stream_text(tokenizer, "café 日本語 ok", [])
    assert "".join(deltas) == "café 日本語 ok" and all("\ufffd" not in d for d in deltas)


def test_released_tokens_follow_their_text(tokenizer):
    stream = TextStream(tokenizer, ["X"])
    ids = tokenizer("ab cd X ef", add_special_tokens=False)["input_ids"]
    released = []
    for token in ids:
        stopped = stream.push(token)
        released.extend(stream.release(final=stopped)[1])
        if stopped:
            break
    text = tokenizer.decode([ids[i] for i in released])
    assert text.startswith("ab cd") and "ef" not in text
