"""Forward passes over a batch whose rows may each use a different LoRA adapter (or none):
the adapters' weights are stacked inside the model's linear layers (``lora.py``), and each
pass selects one stack slot per row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workers.engine.kvcache import BatchCache, check_supported

if TYPE_CHECKING:
    import torch
    from transformers import DynamicCache

    from workers.engine.lora import LoraStack
    from workers.ml.generation import ChatModel


class ModelRunner:
    """Runs the model; used only from the scheduler thread (forward passes and adapter
    loading both touch the model, so one thread owns it)."""

    def __init__(self, chat: ChatModel, stack: LoraStack) -> None:
        self.chat = chat
        self.stack = stack
        self.tokenizer = chat.tokenizer
        self.device = chat.device
        self._check_cache_layout()

    def _check_cache_layout(self) -> None:
        import torch

        with torch.inference_mode():
            out = self.chat.model(
                input_ids=torch.tensor([[self.tokenizer.eos_token_id]], device=self.device), use_cache=True
            )
        check_supported(out.past_key_values)

    def _call(self, slots: list[str | None], **inputs: Any) -> Any:
        with self.stack.selected(slots):
            return self.chat.model(**inputs)

    def prefill(
        self, prompts: list[list[int]], adapters: list[str | None]
    ) -> tuple[torch.Tensor, DynamicCache, torch.Tensor]:
        """Run whole prompts (left-padded together); last-position logits, their cache and mask."""
        import torch

        pad = self.tokenizer.pad_token_id
        width = max(len(p) for p in prompts)
        ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=self.device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=self.device)
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
        with torch.inference_mode():
            out = self._call(
                adapters, input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1
            )
        return out.logits[:, -1, :], out.past_key_values, mask

    def decode(self, batch: BatchCache, tokens: list[int], adapters: list[str | None]) -> torch.Tensor:
        """One step for every row of ``batch``: feed each row's latest token, return next-token logits."""
        import torch

        mask, positions = batch.next_step()
        ids = torch.tensor(tokens, device=self.device).unsqueeze(1)
        with torch.inference_mode():
            out = self._call(
                adapters,
                input_ids=ids,
                attention_mask=mask,
                position_ids=positions,
                past_key_values=batch.cache,
                use_cache=True,
                logits_to_keep=1,
            )
        return out.logits[:, -1, :]
