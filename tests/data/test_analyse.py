"""Analysis numbers on small known files, checked against the tokenizer itself."""

from __future__ import annotations

from array import array

import numpy as np

from tests.data.factories import chat
from workers.ml.data import validate_and_analyse
from workers.ml.data.analyse import histogram
from workers.ml.data.chat_tokens import ChatTokenCounter

EXAMPLES = [
    chat(1),
    {"messages": [{"role": "user", "content": "No system prompt here."}, {"role": "assistant", "content": "Fine."}]},
    {
        "messages": [
            {"role": "system", "content": "Translate to French."},
            {"role": "user", "content": "cat"},
            {"role": "assistant", "content": "chat", "weight": 0},
            {"role": "user", "content": "dog"},
            {"role": "assistant", "content": "chien"},
        ]
    },
    {"messages": [{"role": "user", "content": "Say a"}, {"role": "assistant", "content": "a"}]},
    {"messages": [{"role": "user", "content": "Lead"}, {"role": "assistant", "content": "  spaced answer\n"}]},
    *[chat(i) for i in range(2, 9)],
]


def template_ids(tokenizer, messages, **kwargs):
    return tokenizer.apply_chat_template(messages, tokenize=True, **kwargs)["input_ids"]


def trained_by_prefixes(tokenizer, messages):
    """Trained tokens the slow, obvious way: for each weighted assistant turn, the tokens the
    conversation gains from the generation prompt to the end of that turn."""
    total = 0
    for i, message in enumerate(messages):
        if message["role"] == "assistant" and message.get("weight", 1):
            through = template_ids(tokenizer, messages[: i + 1])
            prompt = template_ids(tokenizer, messages[:i], add_generation_prompt=True)
            total += len(through) - len(prompt)
    return total


def test_token_counts_match_the_chat_template_exactly(write_lines, tokenizer):
    report = validate_and_analyse(write_lines(EXAMPLES), tokenizer=tokenizer, max_seq_len=8192)

    lengths = [len(template_ids(tokenizer, row["messages"])) for row in EXAMPLES]
    stats = report.stats
    assert report.ok, report.errors
    assert stats["total_tokens"] == sum(lengths)
    assert stats["max_tokens"] == max(lengths) and stats["min_tokens"] == min(lengths)
    assert stats["mean_tokens"] == round(sum(lengths) / len(lengths), 1)
    assert stats["p50_tokens"] == int(np.percentile(lengths, 50, method="nearest"))
    assert stats["p95_tokens"] == int(np.percentile(lengths, 95, method="nearest"))
    assert stats["trained_tokens_per_epoch"] == sum(trained_by_prefixes(tokenizer, r["messages"]) for r in EXAMPLES)


def test_weight_zero_turns_are_not_trained(tokenizer):
    counter = ChatTokenCounter(tokenizer)
    weighted = EXAMPLES[2]["messages"]
    unweighted = [{k: v for k, v in m.items() if k != "weight"} for m in weighted]

    [(total_w, trained_w)], [(total_u, trained_u)] = counter.count([weighted]), counter.count([unweighted])
    counter.close()

    assert total_w == total_u
    # "chat<|im_end|>\n" is 3 tokens that only the unweighted version learns
    assert trained_u - trained_w == len(tokenizer("chat<|im_end|>\n", add_special_tokens=False)["input_ids"])


def test_the_chatml_turn_markers_are_learnt_from_the_template(tokenizer):
    counter = ChatTokenCounter(tokenizer)
    counter.close()

    assert (counter.header, counter.suffix) == ("<|im_start|>assistant\n", "<|im_end|>\n")


def test_histogram_covers_every_example(write_lines, tokenizer):
    report = validate_and_analyse(write_lines(EXAMPLES), tokenizer=tokenizer, max_seq_len=8192)

    edges, counts = report.histogram["edges"], report.histogram["counts"]
    assert len(edges) == len(counts) + 1 and sum(counts) == len(EXAMPLES)
    assert edges[0] <= report.stats["min_tokens"] and edges[-1] > report.stats["max_tokens"]


def test_histogram_buckets_have_round_widths():
    result = histogram(array("I", [120, 130, 480, 999]))

    assert result["edges"][:3] == [100, 150, 200]
    assert result["counts"][0] == 2 and sum(result["counts"]) == 4


def test_duplicates_are_found_regardless_of_key_order_and_spacing(write_lines):
    rows = [chat(i) for i in range(10)]
    reordered = (
        '{"messages":[{"content":"You answer briefly.","role":"system"},'
        '{"content":"What is 3 plus 3?","role":"user"},{"content":"It is 6.","role":"assistant"}]}'
    )

    report = validate_and_analyse(write_lines(rows + [reordered, rows[5]]), tokenizer=None)

    assert report.stats["duplicates"] == 2
    assert report.stats["duplicate_samples"] == [{"line": 11, "duplicate_of": 4}, {"line": 12, "duplicate_of": 6}]
    assert [w["code"] for w in report.warnings] == ["duplicates"]


def test_class_like_answers_get_a_label_distribution_and_imbalance_warning(write_lines):
    rows = [chat(i, answer="positive") for i in range(30)] + [chat(100 + i, answer="negative") for i in range(3)]

    report = validate_and_analyse(write_lines(rows), tokenizer=None)

    assert report.labels == {"classes": {"positive": 30, "negative": 3}, "n_classes": 2, "imbalanced": True}
    assert "label_imbalance" in [w["code"] for w in report.warnings]


def test_free_text_answers_have_no_label_distribution(write_lines, valid_rows):
    report = validate_and_analyse(write_lines(valid_rows), tokenizer=None)

    assert report.labels is None


def test_balanced_classes_raise_no_warning(write_lines):
    rows = [chat(i, answer=("yes", "no", "maybe")[i % 3]) for i in range(30)]

    report = validate_and_analyse(write_lines(rows), tokenizer=None)

    assert report.labels["n_classes"] == 3 and not report.labels["imbalanced"]
    assert report.warnings == []


STRICT_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] == 'system' %}"
    "{{ raise_exception('System messages are not supported') }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def test_examples_a_strict_template_refuses_are_reported_at_their_line(write_lines):
    from dataclasses import replace

    from workers.ml.base_models import EMBEDDED_DEFAULT, load_tokenizer

    strict = load_tokenizer(replace(EMBEDDED_DEFAULT, chat_template=STRICT_TEMPLATE))
    rows = [
        {"messages": [{"role": "user", "content": f"Q{i}"}, {"role": "assistant", "content": f"A{i}"}]}
        for i in range(11)
    ]
    rows.insert(3, chat(1))  # has a system message

    report = validate_and_analyse(write_lines(rows), tokenizer=strict, max_seq_len=512)

    assert [(e["code"], e["line"]) for e in report.errors] == [("template_error", 4)]
    assert "System messages are not supported" in report.errors[0]["message"]
    assert report.n_examples == 11 and report.stats["n_examples"] == 11


def test_the_duplicate_hash_tells_apart_examples_that_differ_in_any_field():
    from workers.ml.data.schema import example_digest

    def user_then(answer: dict) -> list[dict]:
        return [{"role": "user", "content": "ab"}, {"role": "assistant", **answer}]

    variants = [
        user_then({"content": "c"}),
        user_then({"content": "c", "weight": 0}),
        user_then({"content": "c", "name": "bot"}),
        user_then({"content": "c", "name": ""}),
        [{"role": "user", "content": "a"}, {"role": "assistant", "content": "bc"}],  # same text, cut elsewhere
        [{"role": "system", "content": "ab"}, {"role": "assistant", "content": "c"}],
    ]

    assert len({example_digest(v) for v in variants}) == len(variants)
    assert example_digest(user_then({"content": "c"})) == example_digest(user_then({"content": "c"}))
