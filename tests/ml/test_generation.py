"""Generation with the base model and with an adapter, through the stored chat template."""

import pytest

from workers.ml.generation import ChatModel, GenerationSettings
from workers.ml.manifest import read_manifest

QUESTION = [{"role": "user", "content": "Is the sky blue?"}]
GREEDY = GenerationSettings(max_new_tokens=8, temperature=0.0)


@pytest.fixture(scope="module")
def chat(tiny_adapter):
    return ChatModel.for_adapter(tiny_adapter, device="cpu", name="ft")


def test_adapter_brings_its_base_model_and_template(chat, tiny_adapter, tiny_spec):
    assert chat.spec == tiny_spec
    assert chat.adapters["ft"].chat_template == read_manifest(tiny_adapter)["chat_template"]


def test_greedy_is_deterministic_and_length_limited(chat):
    first, second = chat.chat(QUESTION, GREEDY, "ft"), chat.chat(QUESTION, GREEDY, "ft")
    assert first == second
    assert first.prompt_tokens == len(chat.chat_prompt(QUESTION, "ft"))
    assert first.completion_tokens <= 8
    if first.finish_reason == "length":
        assert first.completion_tokens == 8


def test_base_and_adapter_answers_differ(chat):
    tuned = chat.chat(QUESTION, GREEDY, "ft")
    base = chat.chat(QUESTION, GREEDY, None)
    assert tuned.token_ids != base.token_ids  # the adapter was switched off for the base call


def test_sampling_with_a_seed_is_reproducible(chat):
    settings = GenerationSettings(max_new_tokens=6, temperature=1.0, top_p=0.9, seed=7)
    assert chat.chat(QUESTION, settings, "ft").token_ids == chat.chat(QUESTION, settings, "ft").token_ids


def test_stop_strings_cut_the_text(chat):
    sample = chat.chat(QUESTION, GenerationSettings(max_new_tokens=6, temperature=1.0, seed=3), None)
    assert sample.text, "needs some text to cut"
    stop = sample.text[len(sample.text) // 2 :][:2] or sample.text[-1]
    cut = chat.chat(QUESTION, GenerationSettings(max_new_tokens=6, temperature=1.0, seed=3, stop=[stop]), None)
    assert stop not in cut.text and cut.finish_reason == "stop"
    assert sample.text.startswith(cut.text)


def test_batched_prompts_match_one_by_one(chat):
    prompts = [chat.chat_prompt(QUESTION, "ft"), chat.chat_prompt([{"role": "user", "content": "Hi"}], "ft")]
    together = chat.generate(prompts, GREEDY, "ft")
    alone = [chat.generate([p], GREEDY, "ft")[0] for p in prompts]
    assert [g.token_ids for g in together] == [g.token_ids for g in alone]
