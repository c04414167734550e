"""The engine as the HTTP layer sees it: resolve model names, turn requests into prompt token
ids with the right chat template and defaults, and hand them to the scheduler.

Prompts of an adapter are rendered with the chat template stored in its tunery_adapter.json,
and whatever sampling setting a request leaves out comes from that manifest too, so a
fine-tune is served exactly as it was trained.
"""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass
from typing import Any

from jinja2.exceptions import TemplateError

from workers.engine.adapters import AdapterInfo, AdapterPool, AdapterRegistry, SamplingDefaults, read_adapter
from workers.engine.config import EngineConfig
from workers.engine.errors import EngineError, bad_request, model_not_found
from workers.engine.protocol import ChatRequest, CompletionRequest, SamplingRequest
from workers.engine.runner import ModelRunner
from workers.engine.sampling import SamplingParams
from workers.engine.scheduler import ChoiceUpdate, Group, Scheduler
from workers.ml.chat_format import chat_prompt_ids
from workers.ml.errors import TrainingError
from workers.ml.generation import ChatModel

BASE_DEFAULTS = SamplingDefaults()  # OpenAI's: temperature 1, top_p 1, up to the context length


class RequestStream:
    """The scheduler's output for one request, as an async iterator of update batches.

    The scheduler thread pushes into an asyncio queue through the request's event loop; the
    iterator ends once every choice has finished, and raises the ``EngineError`` if one comes.
    """

    def __init__(self, choices: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[list[ChoiceUpdate] | EngineError] = asyncio.Queue()
        self._open = choices
        self._cancelled = False

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        """The client went away: the scheduler drops the request's rows at the next step."""
        self._cancelled = True

    def _put(self, item: list[ChoiceUpdate] | EngineError) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the request's event loop is gone (server shutting down)
            self._cancelled = True

    def deliver(self, updates: list[ChoiceUpdate]) -> None:
        self._put(updates)

    def fail(self, error: EngineError) -> None:
        self._put(error)

    def __aiter__(self) -> RequestStream:
        return self

    async def __anext__(self) -> list[ChoiceUpdate]:
        if self._open == 0:
            raise StopAsyncIteration
        item = await self._queue.get()
        if isinstance(item, EngineError):
            self._open = 0
            raise item
        self._open -= sum(1 for update in item if update.finish_reason)
        return item


@dataclass
class Job:
    """A validated request, ready for the scheduler."""

    groups: list[Group]
    prompt_tokens: int
    choices: int
    logprobs: bool
    stream: RequestStream


class Engine:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.registry = AdapterRegistry()
        # The scheduler thread loads the model and owns it from then on (see Scheduler).
        self.scheduler = Scheduler(self._load_model, config.max_batch_size, config.max_prefill_tokens)
        self.scheduler.start()
        self.pool = self.scheduler.pool
        self.chat = self.scheduler.runner.chat
        self.tokenizer = self.chat.tokenizer
        self.created = int(time.time())
        self.token_text = functools.lru_cache(maxsize=1 << 16)(self._decode_one)

    def _decode_one(self, token_id: int) -> str:
        return self.tokenizer.decode([token_id], skip_special_tokens=False, clean_up_tokenization_spaces=False)

    @property
    def base_name(self) -> str:
        return self.config.served_name

    def _load_model(self) -> tuple[ModelRunner, AdapterPool]:
        import torch

        from workers.engine.lora import LoraStack  # imports torch, like the model itself

        dtype = None if self.config.dtype == "auto" else getattr(torch, self.config.dtype)
        chat = ChatModel(self.config.spec, self.config.device, dtype)
        stack = LoraStack(chat.model)
        return ModelRunner(chat, stack), AdapterPool(stack, int(self.config.adapter_memory_mb * 2**20))

    def start(self) -> None:
        """Register and load the adapters named at start."""
        for name, path in self.config.preload:
            info = self._register(name, path)
            self.scheduler.call(functools.partial(self._warm, info)).result()

    def close(self) -> None:
        self.scheduler.stop()

    # Adapters ---------------------------------------------------------------------------

    def _register(self, name: str, path: str) -> AdapterInfo:
        if name == self.base_name:
            raise bad_request(f"{name!r} is the base model's name; choose another adapter name.", "lora_name")
        info = read_adapter(name, path, self.config.spec, self.tokenizer.eos_token_id)
        self.registry.add(info)
        return info

    def _warm(self, info: AdapterInfo) -> None:
        """Load now (scheduler thread), so the first request does not pay for reading the weights."""
        slot = self.pool.acquire(info)
        self.pool.release(info.name, slot)

    async def load_adapter(self, name: str, path: str) -> bool:
        """Register and load an adapter; False if it was already registered from the same folder."""
        if self.registry.get(name) is not None:
            self.registry.add(read_adapter(name, path, self.config.spec, self.tokenizer.eos_token_id))
            return False
        info = self._register(name, path)
        try:
            await asyncio.wrap_future(self.scheduler.call(functools.partial(self._warm, info)))
        except EngineError:
            self.registry.remove(name)
            raise
        return True

    async def unload_adapter(self, name: str) -> None:
        if self.registry.remove(name) is None:
            raise model_not_found(name)
        await asyncio.wrap_future(self.scheduler.call(functools.partial(self.pool.discard, name)))

    def resolve(self, model: str) -> AdapterInfo | None:
        """The adapter that ``model`` names (None for the base model); 404 if neither."""
        if model == self.base_name:
            return None
        info = self.registry.get(model)
        if info is None:
            raise model_not_found(model)
        return info

    def models(self) -> list[dict[str, Any]]:
        """vLLM's shape: adapters name their folder as ``root`` and the base model as ``parent``."""
        limit = self.config.max_seq_len
        base = {"id": self.base_name, "object": "model", "created": self.created, "owned_by": "tunery"}
        listed = [{**base, "root": self.base_name, "parent": None, "max_model_len": limit}]
        for info in self.registry.all():
            listed.append(
                {
                    **base,
                    "id": info.name,
                    "created": info.created,
                    "root": str(info.path),
                    "parent": self.base_name,
                    "max_model_len": limit,
                }
            )
        return listed

    async def status(self) -> dict[str, Any]:
        """Answered by the scheduler thread itself, so it also proves the decode loop is alive."""
        loaded, used = await asyncio.wait_for(
            asyncio.wrap_future(self.scheduler.call(lambda: (self.pool.loaded_names(), self.pool.used_bytes))),
            timeout=30,
        )
        return {
            "status": "ok",
            "model": self.base_name,
            "adapters_registered": len(self.registry.all()),
            "adapters_loaded": loaded,
            "adapter_memory_bytes": used,
            "adapter_memory_budget_bytes": self.pool.budget_bytes,
        }

    # Requests ---------------------------------------------------------------------------

    def _sampling(
        self, request: SamplingRequest, defaults: SamplingDefaults, prompt_len: int, prompt_param: str
    ) -> SamplingParams:
        limit = self.config.max_seq_len
        room = limit - prompt_len
        if room <= 0:
            raise bad_request(
                f"This model's maximum context length is {limit} tokens, but the prompt has {prompt_len}.",
                prompt_param,
                "context_length_exceeded",
            )
        if request.max_tokens is not None and request.max_tokens > room:
            raise bad_request(
                f"This model's maximum context length is {limit} tokens. However, you requested "
                f"{prompt_len + request.max_tokens} tokens ({prompt_len} in the prompt, {request.max_tokens} for the "
                "completion). Please reduce the prompt or the completion length.",
                "max_tokens",
                "context_length_exceeded",
            )
        return SamplingParams(
            max_tokens=request.max_tokens or min(defaults.max_tokens or room, room),
            temperature=defaults.temperature if request.temperature is None else request.temperature,
            top_p=defaults.top_p if request.top_p is None else request.top_p,
            stop=request.stop,
            seed=request.seed,
            n=request.n,
            logprobs=request.logprobs,
            top_logprobs=request.top_logprobs,
            presence_penalty=request.presence_penalty,
            frequency_penalty=request.frequency_penalty,
        )

    def _group(
        self,
        ids: list[int],
        adapter: AdapterInfo | None,
        params: SamplingParams,
        first_index: int,
        stream: RequestStream,
    ) -> Group:
        eos = adapter.eos_token_ids if adapter else (self.tokenizer.eos_token_id,)
        return Group(ids, adapter, params, frozenset(eos), self.config.max_seq_len, stream, first_index)

    def chat_job(self, request: ChatRequest) -> Job:
        adapter = self.resolve(request.model)
        try:
            ids = chat_prompt_ids(self.tokenizer, request.messages, adapter.chat_template if adapter else None)
        except (TemplateError, TrainingError, ValueError) as exc:
            raise bad_request(
                f"The messages cannot be rendered with the model's chat template: {exc}", "messages"
            ) from None
        params = self._sampling(request.sampling, adapter.defaults if adapter else BASE_DEFAULTS, len(ids), "messages")
        stream = RequestStream(params.n)
        return Job([self._group(ids, adapter, params, 0, stream)], len(ids), params.n, params.logprobs, stream)

    def completion_job(self, request: CompletionRequest) -> Job:
        adapter = self.resolve(request.model)
        defaults = adapter.defaults if adapter else BASE_DEFAULTS
        n = request.sampling.n
        stream = RequestStream(n * len(request.prompts))
        groups = []
        for number, prompt in enumerate(request.prompts):
            if isinstance(prompt, str):
                ids = list(self.tokenizer(prompt, add_special_tokens=True)["input_ids"])
            elif all(0 <= t < len(self.tokenizer) for t in prompt):
                ids = list(prompt)
            else:
                raise bad_request("`prompt` holds token ids outside the model's vocabulary.", "prompt")
            if not ids:
                raise bad_request("`prompt` is empty.", "prompt")
            params = self._sampling(request.sampling, defaults, len(ids), "prompt")
            groups.append(self._group(ids, adapter, params, number * n, stream))
        return Job(groups, sum(len(g.prompt_ids) for g in groups), n * len(groups), request.sampling.logprobs, stream)

    def submit(self, job: Job) -> RequestStream:
        self.scheduler.submit(job.groups)
        return job.stream
