"""Which tokens carry loss, and what happens to examples that do not fit."""

import pytest

from tests.ml.conftest import chat
from workers.ml.chat_format import IGNORE_INDEX, chat_prompt_ids, encode_dataset, encode_example
from workers.ml.errors import TrainingError


def trained_text(tokenizer, example) -> list[str]:
    """The trained tokens, as text, one list entry per contiguous trained run."""
    runs, current = [], []
    for token, label in zip(example.input_ids, example.labels, strict=True):
        if label == IGNORE_INDEX:
            if current:
                runs.append(tokenizer.decode(current))
                current = []
        else:
            assert label == token
            current.append(token)
    if current:
        runs.append(tokenizer.decode(current))
    return runs


def test_only_assistant_answer_and_end_of_turn_are_trained(tokenizer):
    example = encode_example(
        tokenizer,
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Capital of France?"},
                {"role": "assistant", "content": "Paris."},
            ]
        },
    )
    assert trained_text(tokenizer, example) == ["Paris.<|im_end|>"]
    # Everything before the answer (system, user, the assistant header) is context only.
    first_trained = next(i for i, label in enumerate(example.labels) if label != IGNORE_INDEX)
    header = tokenizer.decode(example.input_ids[:first_trained])
    assert header.endswith("<|im_start|>assistant\n")
    assert example.labels[-1] == IGNORE_INDEX  # the newline the template adds after the turn


def test_every_assistant_turn_is_trained_unless_weight_is_zero(tokenizer):
    example = encode_example(
        tokenizer,
        {
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!", "weight": 0},
                {"role": "user", "content": "Count to three"},
                {"role": "assistant", "content": "1 2 3"},
                {"role": "user", "content": "Again"},
                {"role": "assistant", "content": "1 2 3", "weight": 1},
            ]
        },
    )
    assert trained_text(tokenizer, example) == ["1 2 3<|im_end|>", "1 2 3<|im_end|>"]


def test_the_full_sequence_is_the_chat_template_rendering(tokenizer):
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    example = encode_example(tokenizer, {"messages": messages})
    assert tokenizer.decode(example.input_ids) == tokenizer.apply_chat_template(messages, tokenize=False)


def test_generation_prompt_matches_the_trained_context(tokenizer):
    example = encode_example(tokenizer, chat("Hi", "Hello"))
    prompt = chat_prompt_ids(tokenizer, [{"role": "user", "content": "Hi"}])
    first_trained = next(i for i, label in enumerate(example.labels) if label != IGNORE_INDEX)
    assert example.input_ids[:first_trained] == prompt


def test_prompt_completion_trains_completion_and_eos(tokenizer):
    example = encode_example(tokenizer, {"prompt": "2+2=", "completion": "4"})
    assert trained_text(tokenizer, example) == ["4<|im_end|>"]
    assert tokenizer.decode(example.input_ids) == "2+2=4<|im_end|>"


def test_too_long_examples_are_truncated_skipped_or_refused(tokenizer):
    rows = [(1, chat("short", "ok")), (2, chat("word " * 200, "ok"))]
    kept, report = encode_dataset(tokenizer, rows, max_seq_len=64, on_too_long="skip")
    assert [e.line for e in kept] == [1] and report.too_long_lines == [2]
    assert report.longest > 200

    # Truncation keeps the prompt's start and cuts the answer: nothing left to learn, so skipped.
    kept, report = encode_dataset(tokenizer, rows, max_seq_len=64, on_too_long="truncate")
    assert report.truncated_lines == [2] and report.no_target_lines == [2] and len(kept) == 1

    with pytest.raises(TrainingError) as error:
        encode_dataset(tokenizer, rows, max_seq_len=64, on_too_long="error")
    assert error.value.code == "invalid_training_file" and "line 2" in error.value.message
    assert "64" in error.value.message


def test_report_counts_tokens_of_kept_examples(tokenizer):
    rows = [(1, chat("a", "b")), (2, chat("c", "d"))]
    kept, report = encode_dataset(tokenizer, rows, max_seq_len=512)
    assert report.total == report.kept == 2
    assert report.total_tokens == sum(len(e) for e in kept)
    assert report.trained_tokens == sum(e.n_trained for e in kept) == 4  # "b"/"d" + end of turn each


@pytest.mark.parametrize(
    ("example", "words"),
    [
        ({"messages": []}, "non-empty list"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "role"),
        ({"messages": [{"role": "user", "content": 3}]}, "text content"),
        (
            {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "weight": 2}]},
            "weight",
        ),
        ({"messages": [{"role": "assistant", "content": "y"}]}, "starts with an assistant"),
        ({"text": "hello"}, "expected"),
    ],
)
def test_malformed_examples_name_the_line(tokenizer, example, words):
    with pytest.raises(TrainingError) as error:
        encode_dataset(tokenizer, [(7, example)], max_seq_len=512)
    assert "line 7" in error.value.message and words in error.value.message
    assert error.value.param == "training_file"
