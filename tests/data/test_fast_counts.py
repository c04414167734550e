"""The fast token count (tiktoken twin + template layouts) against the reference path, which
renders each example with the chat template and encodes it with the original tokenizer."""

from __future__ import annotations

import copy
import json

import pytest

from tests.data.test_analyse import EXAMPLES
from workers.ml.data.chat_tokens import ChatTokenCounter
from workers.ml.data.fast_bpe import count_each, twin_of


def conversation(*contents: str, system: str | None = "Be brief.") -> list[dict]:
    messages = [{"role": "system", "content": system}] if system is not None else []
    roles = ["user", "assistant"] * len(contents)
    return messages + [{"role": role, "content": content} for role, content in zip(roles, contents)]


TRICKY = [
    conversation(" leading space", "  two leading spaces"),
    conversation("\n\nleading newlines", "\n answer after a newline and a space"),
    conversation("trailing whitespace   \n", "answer\t\t"),
    conversation("the separator <|endoftext|> inside", "and <|im_end|> inside an answer"),
    conversation("<|im_start|>starts with a special token", "<|im_end|>"),
    conversation("'s a contraction first", "'ll do"),
    conversation("123 digits first", "4.5"),
    conversation("naïve café 日本語 🙂", "ok 🙂"),
    conversation("\r\nWindows line ends\r\n", "yes\r\n"),
    conversation("no system prompt", "so the template adds its own", system=None),
    conversation("x", "y", "z", "w"),
    conversation("weights", "skip me", "again", "learn me"),
    conversation("", "empty user turn above"),
    conversation("spaces\u00a0and\u2003wide ones", " \u3000full-width first"),
    # One whitespace character, then a special token: the tokenizer cuts at the special token
    # first, so the whitespace joins the newline before it.
    conversation(" <|im_end|>", "\t<|endoftext|>"),
    conversation("\n<|im_start|>x", " <|im_start|>"),
    # Characters whose bytes have no token of their own (the tokenizer drops them; tiktoken
    # cannot encode them, so these examples are counted the reference way).
    conversation("Word field\x13 code\x14 result\x15", "ok"),
    conversation("a\U00040000b", "\x04"),
]
TRICKY[11][2]["weight"] = 0


@pytest.fixture(scope="module")
def counters(tokenizer):
    fast, reference = ChatTokenCounter(tokenizer), ChatTokenCounter(tokenizer, fast=False)
    yield fast, reference
    fast.close()
    reference.close()


def test_the_embedded_tokenizer_has_a_fast_twin(tokenizer, counters):
    assert twin_of(tokenizer) is not None
    assert counters[0].fast and not counters[1].fast


@pytest.mark.parametrize("messages", [row["messages"] for row in EXAMPLES] + TRICKY, ids=repr)
def test_fast_counts_equal_the_reference(counters, messages):
    fast, reference = counters

    assert fast.count([messages]) == reference.count([messages])


def test_a_batch_with_repeats_counts_each_example_like_the_reference(counters):
    fast, reference = counters
    batch = [row["messages"] for row in EXAMPLES] * 3 + TRICKY * 2

    assert fast.count(batch) == reference.count(batch)
    assert fast.count(batch) == reference.count(batch)  # second time, from the cache


def test_a_template_that_rewrites_contents_is_counted_by_rendering(tokenizer):
    trimming = copy.copy(tokenizer)
    trimming.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] | trim }}<|im_end|>\n{% endfor %}"
    )
    counter = ChatTokenCounter(trimming)
    messages = conversation("  padded  ", "  also padded  ")
    try:
        [(total, _)] = counter.count([messages])
    finally:
        counter.close()

    expected = trimming.apply_chat_template(messages, tokenize=True)["input_ids"]
    assert total == len(expected)


def test_a_tokenizer_tiktoken_cannot_mirror_gets_no_twin(tokenizer):
    config = json.loads(tokenizer.backend_tokenizer.to_str())
    config["normalizer"] = {"type": "NFC"}
    altered = copy.copy(tokenizer)
    altered._tokenizer = type(tokenizer.backend_tokenizer).from_str(json.dumps(config))

    assert twin_of(altered) is None


def test_count_each_counts_every_text_on_its_own(tokenizer):
    encoding = twin_of(tokenizer)
    texts = ["hello world", "", "a <|endoftext|> b", "  spaced", "<|im_end|>", "last one\n"]

    assert count_each(encoding, texts) == [len(encoding.encode(t, allowed_special="all")) for t in texts]
    assert count_each(encoding, []) == []


def test_a_long_conversation_is_counted_by_rendering(counters):
    fast, reference = counters
    messages = conversation(*[f"turn {i}" for i in range(300)])

    assert fast.count([messages]) == reference.count([messages])


def test_a_file_with_untokenizable_control_characters_is_analysed(write_lines, tokenizer):
    from workers.ml.data import validate_and_analyse

    rows = [{"messages": conversation(f"Field\x13 code {i}\x14 result", f"answer {i}")} for i in range(12)]
    report = validate_and_analyse(write_lines(rows), tokenizer=tokenizer, max_seq_len=8192)

    expected = sum(len(tokenizer.apply_chat_template(r["messages"], tokenize=True)["input_ids"]) for r in rows)
    assert report.ok and report.stats["total_tokens"] == expected
