"""Legacy completions: raw text prompts, batches of prompts, streaming and logprobs."""

from __future__ import annotations


def complete(client, **options):
    settings = {"model": "tiny", "prompt": "The capital of France is", "max_tokens": 6, "temperature": 0} | options
    return client.completions.create(**settings)


def test_it_completes_text(client):
    answer = complete(client)
    assert answer.id.startswith("cmpl-") and answer.object == "text_completion"
    assert answer.choices[0].text and answer.choices[0].finish_reason == "length"
    assert answer.usage.completion_tokens == 6 and answer.usage.prompt_tokens > 0


def test_streamed_text_equals_the_plain_text(client):
    plain = complete(client).choices[0].text
    chunks = list(complete(client, stream=True, stream_options={"include_usage": True}))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == plain
    assert chunks[-1].usage.completion_tokens == 6


def test_a_list_of_prompts_gives_n_choices_per_prompt(client):
    answer = complete(client, prompt=["One", "Two two"], n=2, temperature=1.0, seed=3)
    assert [choice.index for choice in answer.choices] == [0, 1, 2, 3]
    alone = [complete(client, prompt=p).usage.prompt_tokens for p in ("One", "Two two")]
    assert answer.usage.prompt_tokens == sum(alone) and answer.usage.completion_tokens == 4 * 6


def test_logprobs_count_alternatives(client):
    answer = complete(client, logprobs=2)
    logprobs = answer.choices[0].logprobs
    assert "".join(logprobs.tokens) == answer.choices[0].text
    assert len(logprobs.token_logprobs) == len(logprobs.tokens) == len(logprobs.top_logprobs)
    assert all(1 <= len(top) <= 2 for top in logprobs.top_logprobs)
    assert logprobs.text_offset == sorted(logprobs.text_offset) and logprobs.text_offset[0] == 0


def test_adapters_serve_completions_too(client):
    assert complete(client, model="yes").choices[0].text != complete(client).choices[0].text
