"""Stacked LoRA weights: a batch mixing adapters of different ranks and targets (and the bare
base model) gives every row what its adapter gives alone, and what peft gives; loading and
unloading restack the weights and keep the memory count exact."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from peft import LoraConfig, PeftModel, get_peft_model

from workers.engine.adapters import read_adapter
from workers.engine.errors import EngineError
from workers.engine.kvcache import BatchCache
from workers.engine.lora import LoraLinear, LoraStack, read_lora
from workers.engine.runner import ModelRunner
from workers.ml.base_models import BaseModelSpec, load_model
from workers.ml.generation import ChatModel

PROMPTS = [[5, 6, 7, 8, 9], [10, 11], [12, 13, 14], [15, 16, 17, 18], [19]]


def _random_adapter(spec: BaseModelSpec, folder: Path, **config) -> Path:
    """A peft adapter with random (non-zero) weights: serving only depends on its shape."""
    torch.manual_seed(7)
    model = get_peft_model(load_model(spec, "cpu"), LoraConfig(**config))
    for name, param in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.5)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def small_adapter(tiny_base, tmp_path_factory) -> Path:
    """Rank 4 on two projections only, rsLoRA scaling: unlike the trained rank-16 adapters."""
    folder = tmp_path_factory.mktemp("adapter-r4")
    return _random_adapter(tiny_base, folder, r=4, lora_alpha=8, use_rslora=True, target_modules=["q_proj", "v_proj"])


@pytest.fixture
def runner(tiny_base, chatml_adapter, plain_adapter, small_adapter) -> ModelRunner:
    chat = ChatModel(tiny_base, "cpu")
    stack = LoraStack(chat.model)
    # The small one first: the others' extra layers are then wrapped with zeros for it.
    for slot, folder in [("r4", small_adapter), ("yes", chatml_adapter), ("no", plain_adapter)]:
        stack.add(slot, read_lora(folder, chat.model))
    return ModelRunner(chat, stack)


def greedy_logits(
    runner: ModelRunner, prompts: list[list[int]], slots: list[str | None], steps: int = 6
) -> torch.Tensor:
    """Each row's next-token logits at every step of greedy decoding: [rows, steps + 1, vocab]."""
    logits, cache, mask = runner.prefill(prompts, slots)
    batch = BatchCache()
    batch.add(cache, mask)
    seen = [logits]
    for _ in range(steps):
        logits = runner.decode(batch, logits.argmax(dim=-1).tolist(), slots)
        seen.append(logits)
    return torch.stack(seen, dim=1)


def wrapped(runner: ModelRunner) -> dict[str, LoraLinear]:
    return {name: module for name, module in runner.chat.model.named_modules() if isinstance(module, LoraLinear)}


def test_a_mixed_batch_gives_each_row_what_its_adapter_gives_alone(runner):
    slots = ["yes", "no", "r4", None, "yes"]
    mixed = greedy_logits(runner, PROMPTS, slots)
    for row, (prompt, slot) in enumerate(zip(PROMPTS, slots)):
        alone = greedy_logits(runner, [prompt], [slot])[0]
        assert torch.equal(mixed[row].argmax(dim=-1), alone.argmax(dim=-1))
        torch.testing.assert_close(mixed[row], alone, atol=1e-5, rtol=1e-5)


def test_stacked_adapters_compute_what_peft_computes(runner, tiny_base, chatml_adapter, small_adapter):
    ids = torch.tensor(PROMPTS[0]).unsqueeze(0)
    for slot, folder in [("yes", chatml_adapter), ("r4", small_adapter)]:
        reference = PeftModel.from_pretrained(load_model(tiny_base, "cpu"), str(folder)).eval()
        with torch.inference_mode():
            expected = reference(input_ids=ids).logits[:, -1]
        stacked, _, _ = runner.prefill([PROMPTS[0]], [slot])
        torch.testing.assert_close(stacked, expected, atol=1e-5, rtol=1e-5)


def test_unloading_restacks_and_frees_the_weights(runner, chatml_adapter):
    stack = runner.stack
    before = greedy_logits(runner, PROMPTS[:2], ["r4", None])
    layers = wrapped(runner)
    assert stack.nbytes == sum(layer.a.nbytes + layer.b.nbytes for layer in layers.values())
    assert {tuple(layer.a.shape[:2]) for layer in layers.values()} == {(3, 16)}  # rank 4 padded to 16

    stack.remove("yes")
    stack.remove("no")
    layers = wrapped(runner)
    assert {name.rsplit(".", 1)[1] for name in layers} == {"q_proj", "v_proj"}
    assert {tuple(layer.a.shape[:2]) for layer in layers.values()} == {(1, 4)}
    float_bytes = 4
    assert stack.nbytes == sum(
        4 * (layer.base.in_features + layer.base.out_features) * float_bytes for layer in layers.values()
    )
    torch.testing.assert_close(greedy_logits(runner, PROMPTS[:2], ["r4", None]), before, atol=1e-5, rtol=1e-5)

    incoming = read_lora(chatml_adapter, runner.chat.model)
    projected = stack.nbytes_with(incoming)  # what the pool holds against its budget before loading
    stack.add("yes again", incoming)
    assert stack.nbytes == projected
    stack.remove("yes again")

    stack.remove("r4")
    assert stack.nbytes == 0 and not wrapped(runner)


def test_adapters_the_stack_cannot_apply_are_refused_at_registration(tiny_base, tmp_path):
    dora = _random_adapter(tiny_base, tmp_path / "dora", r=4, lora_alpha=8, use_dora=True, target_modules=["q_proj"])
    with pytest.raises(EngineError) as refused:
        read_adapter("dora", str(dora), tiny_base, 0)
    assert refused.value.status == 400 and refused.value.param == "lora_path"
    assert "use_dora" in refused.value.message
