"""Continuous batching: concurrent requests on different adapters share decode steps and
answer exactly as they would alone; each adapter renders prompts with its own template."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from tests.engine.conftest import PLAIN_TEMPLATE
from workers.ml.chat_format import chat_prompt_ids
from workers.ml.generation import ChatModel, GenerationSettings

REQUESTS = [
    ("yes", "Is the sky blue?"),
    ("no", "Is the sky blue?"),
    ("yes", "Do rocks fly? Tell me."),
    ("no", "Is ice hot?"),
    ("tiny", "Hello there"),
    ("no", "Do fish swim, in water?"),
]


def answer(client, model: str, question: str, max_tokens: int = 16):
    response = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": question}], max_tokens=max_tokens, temperature=0
    )
    return response.choices[0].message.content, response.usage.completion_tokens


def test_concurrent_mixed_adapter_requests_match_sequential_ones(client, engine):
    alone = [answer(client, model, question) for model, question in REQUESTS]
    engine.scheduler.peak_rows = 0
    barrier = Barrier(len(REQUESTS))

    def together(request):
        barrier.wait()
        return answer(client, *request)

    with ThreadPoolExecutor(len(REQUESTS)) as pool:
        concurrent = list(pool.map(together, REQUESTS))
    assert concurrent == alone
    assert engine.scheduler.peak_rows >= 3  # they really shared decode steps


def test_requests_joining_a_running_batch_are_unaffected(client):
    """A long request is running when short ones join and leave around it."""
    long_alone = answer(client, "yes", "Is water wet?", max_tokens=40)
    short_alone = [answer(client, "no", f"Question {i}?", max_tokens=3 + i) for i in range(4)]
    with ThreadPoolExecutor(5) as pool:
        long_run = pool.submit(answer, client, "yes", "Is water wet?", 40)
        short_runs = [pool.submit(answer, client, "no", f"Question {i}?", 3 + i) for i in range(4)]
        assert [run.result() for run in short_runs] == short_alone
        assert long_run.result() == long_alone


def test_each_adapter_renders_prompts_with_its_own_template(client, engine, plain_adapter, chatml_adapter):
    messages = [{"role": "user", "content": "Is the sky blue?"}]
    plain = client.chat.completions.create(model="no", messages=messages, max_tokens=1)
    chatml = client.chat.completions.create(model="yes", messages=messages, max_tokens=1)
    assert plain.usage.prompt_tokens == len(chat_prompt_ids(engine.tokenizer, messages, PLAIN_TEMPLATE))
    assert chatml.usage.prompt_tokens == len(chat_prompt_ids(engine.tokenizer, messages))
    assert plain.usage.prompt_tokens != chatml.usage.prompt_tokens
    # And the answers are exactly those of the training side's reference generator.
    for name, folder in [("no", plain_adapter), ("yes", chatml_adapter)]:
        reference = ChatModel.for_adapter(folder, device="cpu", name="ref")
        expected = reference.chat(messages, GenerationSettings(max_new_tokens=8, temperature=0.0), "ref")
        assert answer(client, name, messages[0]["content"], max_tokens=8)[0] == expected.text
