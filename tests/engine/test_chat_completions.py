"""chat.completions through the official client: plain, streamed, n, stop, seed, logprobs."""

from __future__ import annotations

import time

QUESTION = [{"role": "user", "content": "Is the sky blue?"}]


def ask(client, **options):
    settings = {"model": "no", "messages": QUESTION, "max_tokens": 8, "temperature": 0} | options
    return client.chat.completions.create(**settings)


def test_it_answers_in_openai_shape(client):
    answer = ask(client)
    assert answer.id.startswith("chatcmpl-") and answer.object == "chat.completion" and answer.model == "no"
    [choice] = answer.choices
    assert choice.index == 0 and choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason == "length" and answer.usage.completion_tokens == 8
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + 8


def test_max_completion_tokens_limits_the_answer(client):
    answer = ask(client, max_tokens=None, max_completion_tokens=3)
    assert answer.usage.completion_tokens == 3 and answer.choices[0].finish_reason == "length"


def test_stream_matches_the_plain_answer_and_ends_with_usage(client):
    plain = ask(client)
    chunks = list(ask(client, stream=True, stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert {chunk.id for chunk in chunks} == {chunks[0].id} and chunks[0].object == "chat.completion.chunk"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == plain.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["length"]
    *body, last = chunks
    assert last.choices == [] and last.usage == plain.usage
    assert all(chunk.usage is None for chunk in body)


def test_stream_without_include_usage_has_no_usage_chunk(client):
    chunks = list(ask(client, stream=True))
    assert all(chunk.choices for chunk in chunks)


def test_stop_string_cuts_the_answer_and_is_not_returned(client):
    full = ask(client, max_tokens=12).choices[0].message.content
    stop = full[3:6]
    cut = ask(client, max_tokens=12, stop=[stop, "never appears"])
    assert cut.choices[0].message.content == full[: full.index(stop)]
    assert cut.choices[0].finish_reason == "stop"
    streamed = "".join(c.choices[0].delta.content or "" for c in ask(client, max_tokens=12, stop=stop, stream=True))
    assert streamed == full[: full.index(stop)]


def test_seed_makes_sampling_reproducible(client):
    first = ask(client, model="tiny", temperature=1.0, seed=1234, max_tokens=10)
    again = ask(client, model="tiny", temperature=1.0, seed=1234, max_tokens=10)
    other = ask(client, model="tiny", temperature=1.0, seed=4321, max_tokens=10)
    assert first.choices[0].message.content == again.choices[0].message.content
    assert first.choices[0].message.content != other.choices[0].message.content


def test_n_returns_several_choices(client):
    answer = ask(client, model="tiny", n=3, temperature=1.0, seed=7, max_tokens=5)
    assert [choice.index for choice in answer.choices] == [0, 1, 2]
    assert len({choice.message.content for choice in answer.choices}) > 1
    assert (
        answer.usage.completion_tokens == 15
        and answer.usage.prompt_tokens == ask(client, model="tiny").usage.prompt_tokens
    )


def test_streamed_n_choices_are_told_apart_by_index(client):
    chunks = list(ask(client, model="tiny", n=2, temperature=1.0, seed=7, max_tokens=5, stream=True))
    plain = ask(client, model="tiny", n=2, temperature=1.0, seed=7, max_tokens=5)
    for index in (0, 1):
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices[0].index == index)
        assert text == plain.choices[index].message.content


def test_logprobs_come_with_the_chosen_tokens_and_alternatives(client):
    answer = ask(client, logprobs=True, top_logprobs=3)
    choice = answer.choices[0]
    tokens = choice.logprobs.content
    assert "".join(t.token for t in tokens) == choice.message.content
    for token in tokens:
        assert len(token.top_logprobs) == 3 and token.logprob <= 0
        # Greedy: the chosen token is the most likely one.
        assert token.top_logprobs[0].logprob == token.logprob
        assert bytes(token.bytes).decode() == token.token


def test_without_logprobs_none_are_sent(client):
    assert ask(client).choices[0].logprobs is None


def test_a_client_that_disconnects_frees_its_rows(client, engine):
    with ask(client, model="tiny", max_tokens=1500, stream=True) as stream:
        next(iter(stream))
        assert engine.scheduler.active_rows == 1
    deadline = time.monotonic() + 10
    while engine.scheduler.active_rows and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine.scheduler.active_rows == 0


def test_continuous_usage_reports_what_was_used_so_far_on_every_chunk(client):
    """vLLM's stream_options.continuous_usage_stats, which the gateway uses for metering."""
    plain = ask(client)
    chunks = list(ask(client, stream=True, stream_options={"include_usage": True, "continuous_usage_stats": True}))
    counts = [chunk.usage.completion_tokens for chunk in chunks]
    assert all(chunk.usage.prompt_tokens == plain.usage.prompt_tokens for chunk in chunks)
    assert counts == sorted(counts) and counts[0] == 0 and counts[-1] == plain.usage.completion_tokens
