"""Text generation with a base model and any number of LoRA adapters.

``ChatModel`` holds one base model in memory and loads adapters into it by name, so the
inference engine can serve many fine-tunes from one process (``use_adapter`` picks which per
call, None for the base model). Prompts of an adapter are rendered with the chat template and
stop tokens stored in its tunery_adapter.json, i.e. exactly as in training.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from workers.ml.base_models import EMBEDDED_DEFAULT, BaseModelSpec, default_device, load_model, load_tokenizer
from workers.ml.chat_format import chat_prompt_ids
from workers.ml.errors import TrainingError
from workers.ml.manifest import read_manifest

if TYPE_CHECKING:
    import torch
    from peft import PeftModel
    from transformers import PreTrainedModel


@dataclass
class GenerationSettings:
    """OpenAI's sampling parameters; ``temperature`` 0 means greedy decoding."""

    max_new_tokens: int = 256
    temperature: float = 1.0
    top_p: float = 1.0
    stop: list[str] = field(default_factory=list)
    seed: int | None = None


@dataclass
class Generation:
    text: str
    token_ids: list[int]
    finish_reason: Literal["stop", "length"]
    prompt_tokens: int
    completion_tokens: int


@dataclass
class _Adapter:
    chat_template: str | None
    eos_token_ids: list[int]
    max_seq_len: int


class ChatModel:
    """A base model plus named adapters, ready to generate.

    The active adapter is model-wide state, so calls are serialised by a lock.
    """

    def __init__(
        self, spec: BaseModelSpec | None = None, device: str | None = None, dtype: torch.dtype | None = None
    ) -> None:
        self.spec = spec or EMBEDDED_DEFAULT
        self.device = device or default_device()
        self.tokenizer = load_tokenizer(spec)
        self.model: PreTrainedModel | PeftModel = load_model(spec, self.device, dtype).eval()
        self.adapters: dict[str, _Adapter] = {}
        self._lock = threading.RLock()

    @classmethod
    def for_adapter(cls, adapter_dir: str | Path, device: str | None = None, name: str = "default") -> ChatModel:
        """Base model named in the adapter's manifest, with the adapter loaded as ``name``."""
        spec = BaseModelSpec.from_dict(read_manifest(adapter_dir)["base_model_spec"])
        chat = cls(spec, device)
        chat.load_adapter(adapter_dir, name)
        return chat

    def load_adapter(self, adapter_dir: str | Path, name: str) -> None:
        from peft import PeftModel

        adapter_dir = Path(adapter_dir)
        try:
            manifest = read_manifest(adapter_dir)
        except FileNotFoundError:
            raise TrainingError("model_not_available", f"No fine-tuned model in {adapter_dir}.", "model") from None
        with self._lock:
            if isinstance(self.model, PeftModel):
                self.model.load_adapter(str(adapter_dir), adapter_name=name)
            else:
                self.model = PeftModel.from_pretrained(self.model, str(adapter_dir), adapter_name=name).eval()
            self.adapters[name] = _Adapter(
                manifest["chat_template"], manifest["generation"]["eos_token_ids"], manifest["max_seq_len"]
            )

    def unload_adapter(self, name: str) -> None:
        with self._lock:
            self.model.delete_adapter(name)  # type: ignore[union-attr]
            del self.adapters[name]

    def max_seq_len(self, adapter: str | None = None) -> int:
        if adapter:
            return self.adapters[adapter].max_seq_len
        return self.spec.max_seq_len

    def chat_prompt(self, messages: Sequence[dict[str, Any]], use_adapter: str | None = None) -> list[int]:
        template = self.adapters[use_adapter].chat_template if use_adapter else None
        return chat_prompt_ids(self.tokenizer, messages, template)

    def text_prompt(self, prompt: str) -> list[int]:
        return list(self.tokenizer(prompt, add_special_tokens=True)["input_ids"])

    def chat(
        self,
        messages: Sequence[dict[str, Any]],
        settings: GenerationSettings | None = None,
        use_adapter: str | None = None,
    ) -> Generation:
        return self.generate([self.chat_prompt(messages, use_adapter)], settings, use_adapter)[0]

    def generate(
        self, prompts: Sequence[list[int]], settings: GenerationSettings | None = None, use_adapter: str | None = None
    ) -> list[Generation]:
        """Generate for several token-id prompts at once (left-padded into one batch)."""
        import torch

        settings = settings or GenerationSettings()
        eos = self.adapters[use_adapter].eos_token_ids if use_adapter else [self.tokenizer.eos_token_id]
        pad = self.tokenizer.pad_token_id
        width = max(len(p) for p in prompts)
        input_ids = torch.tensor([[pad] * (width - len(p)) + list(p) for p in prompts], device=self.device)
        attention_mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=self.device)
        sampling: dict[str, Any] = (
            # OpenAI has no top-k; 0 turns off transformers' default of 50.
            {"do_sample": True, "temperature": settings.temperature, "top_p": settings.top_p, "top_k": 0}
            if settings.temperature > 0
            else {"do_sample": False}
        )
        with torch.inference_mode(), self.using(use_adapter):
            if settings.seed is not None:
                torch.manual_seed(settings.seed)
            output = self.model.generate(
                input_ids=input_ids,
                attention_mask=attention_mask,
                max_new_tokens=settings.max_new_tokens,
                eos_token_id=eos,
                pad_token_id=pad,
                stop_strings=settings.stop or None,
                tokenizer=self.tokenizer,
                **sampling,
            )
        return [
            self._finish(row[width:], len(p), eos, settings) for row, p in zip(output.tolist(), prompts, strict=True)
        ]

    @contextlib.contextmanager
    def using(self, adapter: str | None) -> Iterator[PreTrainedModel | PeftModel]:
        """The model with ``adapter`` active (None: the base model), held exclusively."""
        from peft import PeftModel

        with self._lock:
            if not isinstance(self.model, PeftModel):
                yield self.model
            elif adapter is None:
                with self.model.disable_adapter():
                    yield self.model
            else:
                self.model.set_adapter(adapter)
                yield self.model

    def _finish(
        self, generated: list[int], prompt_len: int, eos: list[int], settings: GenerationSettings
    ) -> Generation:
        """Cut at end-of-turn or the first stop string (neither is returned, as in OpenAI's API)."""
        stop_at = next((i for i, token in enumerate(generated) if token in eos), None)
        if stop_at is None:
            # Rows that ended on a stop string are padded while the rest of the batch runs on.
            while generated and generated[-1] == self.tokenizer.pad_token_id:
                generated = generated[:-1]
            ids, used, finish = generated, len(generated), "length"
        else:
            ids, used, finish = generated[:stop_at], stop_at + 1, "stop"
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        cuts = [text.find(s) for s in settings.stop if s and s in text]
        if cuts:
            text, finish = text[: min(cuts)], "stop"
        return Generation(text, ids, finish, prompt_len, used)  # type: ignore[arg-type]
