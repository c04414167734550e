"""The scheduler thread: one continuously batched decode loop for every request.

Each iteration, between decode steps:

1. runs queued control calls (adapter load/unload) — the model is only touched on this thread;
2. drops rows whose client went away;
3. admits waiting requests while the batch has room: pins their adapters (loading them if
   needed), prefills their prompts together, samples their first token, and merges their
   key/value rows into the running batch;
4. runs one decode step over every live row (each row with its own adapter), samples each
   row's next token with its own settings, hands the new text to the request, and removes
   finished rows.

So a request joins at the next step boundary instead of waiting for the batch to drain, and
its tokens stream out as each step finishes.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from workers.engine.errors import EngineError, server_error
from workers.engine.kvcache import BatchCache
from workers.engine.sampling import Choice, RowSampler, SamplingParams, choose, make_generator
from workers.engine.text import TextStream

if TYPE_CHECKING:
    from workers.engine.adapters import AdapterInfo, AdapterPool
    from workers.engine.runner import ModelRunner

log = logging.getLogger(__name__)

FinishReason = Literal["stop", "length"]


@dataclass
class TokenLogprob:
    token_id: int
    logprob: float
    top: list[tuple[int, float]]
    offset: int  # where the token's text starts in the choice's text


@dataclass
class ChoiceUpdate:
    """New output of one choice after a step; ``finish_reason`` set on its last update."""

    index: int
    text: str
    logprobs: list[TokenLogprob]
    finish_reason: FinishReason | None = None
    completion_tokens: int = 0  # every generated token, end-of-turn included; set when finished
    generated: int = 0  # tokens generated so far (for usage reported while streaming)


class Sink(Protocol):
    """Where a request's output goes; called from the scheduler thread."""

    @property
    def cancelled(self) -> bool: ...

    def deliver(self, updates: list[ChoiceUpdate]) -> None: ...

    def fail(self, error: EngineError) -> None: ...


@dataclass
class Group:
    """One prompt and its ``n`` choices (OpenAI's ``n``), numbered from ``first_index``."""

    prompt_ids: list[int]
    adapter: AdapterInfo | None
    params: SamplingParams
    eos_ids: frozenset[int]
    max_seq_len: int
    sink: Sink
    first_index: int = 0
    slot: str | None = None  # the adapter's stack slot while pinned
    open_rows: int = 0


@dataclass
class _Row:
    group: Group
    index: int
    sampler: RowSampler
    text: TextStream
    last_token: int = -1
    generated: int = 0
    # (token, logprob, alternatives) per token pushed into ``text``, released with its text.
    logprobs: list[tuple[int, float, list[tuple[int, float]]]] = field(default_factory=list)
    finished: bool = False


class _Stop:
    pass


@dataclass
class _Call:
    fn: Callable[[], Any]
    future: Future[Any]


Build = Callable[[], "tuple[ModelRunner, AdapterPool]"]


class Scheduler:
    """Owns the model: ``build`` loads it on the scheduler thread, and every forward pass and
    adapter load after that runs there too.

    That is for speed on CPU, not only for safety: with OpenMP every thread that runs parallel
    torch ops gets its own pool of workers, and when the model was loaded on the main thread
    (leaving a second pool behind) each decode step here took 1.5-2.5x as long.
    """

    runner: ModelRunner
    pool: AdapterPool

    def __init__(self, build: Build, max_batch_size: int = 16, max_prefill_tokens: int = 4096) -> None:
        self._build = build
        self.max_batch_size = max_batch_size
        self.max_prefill_tokens = max_prefill_tokens  # caps how long one admission stalls the running rows
        self._inbox: queue.Queue[list[Group] | _Call | _Stop] = queue.Queue()
        self._waiting: deque[Group] = deque()
        self._rows: list[_Row] = []
        self._batch = BatchCache()
        self._thread: threading.Thread | None = None
        self.peak_rows = 0  # largest batch decoded so far, for tests and the benchmark

    def start(self) -> None:
        """Start the thread and wait until it has built the model; raises what building raised."""
        built: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, args=(built,), name="engine-scheduler", daemon=True)
        self._thread.start()
        built.result()

    def stop(self) -> None:
        if self._thread is not None:
            self._inbox.put(_Stop())
            self._thread.join(timeout=30)

    @property
    def active_rows(self) -> int:
        return len(self._rows)

    def submit(self, groups: list[Group]) -> None:
        self._inbox.put(groups)

    def call(self, fn: Callable[[], Any]) -> Future[Any]:
        """Run ``fn`` on the scheduler thread between steps (for anything that touches the model)."""
        future: Future[Any] = Future()
        self._inbox.put(_Call(fn, future))
        return future

    # The loop ---------------------------------------------------------------------------

    def _run(self, built: Future[None]) -> None:
        try:
            self.runner, self.pool = self._build()
        except BaseException as exc:  # handed to start()
            built.set_exception(exc)
            return
        built.set_result(None)
        while self._drain(block=not self._rows and not self._waiting):
            self._drop_cancelled()
            self._guarded(self._admit)
            if self._rows:
                self._guarded(self._decode)

    def _drain(self, block: bool) -> bool:
        """Take everything queued (waiting for something when idle); False when told to stop."""
        while True:
            try:
                item = self._inbox.get(block=block)
            except queue.Empty:
                return True
            block = False
            if isinstance(item, _Stop):
                return False
            if isinstance(item, _Call):
                if item.future.set_running_or_notify_cancel():
                    try:
                        item.future.set_result(item.fn())
                    except BaseException as exc:  # handed to the caller, who decides
                        item.future.set_exception(exc)
            else:
                self._waiting.extend(item)

    def _guarded(self, step: Callable[[], None]) -> None:
        """A failing step fails the requests in the batch with a clean error, not the engine."""
        try:
            step()
        except Exception:
            log.exception("Engine step failed; failing the requests in the batch")
            error = server_error("The engine failed while generating; please retry.")
            for group in {id(row.group): row.group for row in self._rows}.values():
                group.sink.fail(error)
                self._release(group)
            self._rows = []
            self._batch = BatchCache()

    def _drop_cancelled(self) -> None:
        if any(row.group.sink.cancelled for row in self._rows):
            for row in self._rows:
                row.finished = row.finished or row.group.sink.cancelled
            self._remove_finished()

    def _admit(self) -> None:
        room = self.max_batch_size - len(self._rows)
        admitted: list[Group] = []
        tokens = 0
        while self._waiting:
            group = self._waiting[0]
            if group.sink.cancelled:
                self._waiting.popleft()
                continue
            busy = bool(self._rows or admitted)
            if busy and (group.params.n > room or tokens + len(group.prompt_ids) > self.max_prefill_tokens):
                break
            self._waiting.popleft()
            try:
                group.slot = self.pool.acquire(group.adapter) if group.adapter else None
            except EngineError as error:
                group.sink.fail(error)
                continue
            admitted.append(group)
            room -= group.params.n
            tokens += len(group.prompt_ids)
        if not admitted:
            return
        try:
            self._prefill(admitted)
        except Exception:
            # The running rows are intact (nothing was merged yet): fail only the newcomers.
            log.exception("Prefill failed")
            for group in admitted:
                group.sink.fail(server_error("The engine failed while reading the prompt; please retry."))
                self._release(group)

    def _prefill(self, groups: list[Group]) -> None:
        logits, cache, mask = self.runner.prefill([g.prompt_ids for g in groups], [g.slot for g in groups])
        incoming = BatchCache()
        incoming.add(cache, mask)
        # One prefill per prompt; its n choices share it, copied into n rows.
        copies = [i for i, group in enumerate(groups) for _ in range(group.params.n)]
        incoming.keep(copies)
        rows = []
        for group in groups:
            generator = None if group.params.greedy else make_generator(group.params.seed, logits.device)
            group.open_rows = group.params.n
            for k in range(group.params.n):
                sampler = RowSampler(group.params, generator)
                rows.append(
                    _Row(group, group.first_index + k, sampler, TextStream(self.runner.tokenizer, group.params.stop))
                )
        assert incoming.cache is not None and incoming.mask is not None
        self._batch.add(incoming.cache, incoming.mask)
        self._rows.extend(rows)
        self._advance(rows, choose(logits[copies], [row.sampler for row in rows]))
        self._remove_finished()

    def _decode(self) -> None:
        self.peak_rows = max(self.peak_rows, len(self._rows))
        logits = self.runner.decode(
            self._batch, [row.last_token for row in self._rows], [row.group.slot for row in self._rows]
        )
        self._advance(self._rows, choose(logits, [row.sampler for row in self._rows]))
        self._remove_finished()

    # Per-token bookkeeping --------------------------------------------------------------

    def _advance(self, rows: list[_Row], choices: list[Choice]) -> None:
        updates: dict[int, tuple[Sink, list[ChoiceUpdate]]] = {}
        for row, choice in zip(rows, choices):
            update = self._step_row(row, choice)
            if update is not None:
                updates.setdefault(id(row.group), (row.group.sink, []))[1].append(update)
        for sink, batch in updates.values():
            sink.deliver(batch)

    def _step_row(self, row: _Row, choice: Choice) -> ChoiceUpdate | None:
        group, params = row.group, row.group.params
        row.generated += 1
        finish: FinishReason | None = None
        if choice.token_id in group.eos_ids:
            finish = "stop"  # end of turn: counted as a completion token, never shown
        else:
            row.last_token = choice.token_id
            row.logprobs.append((choice.token_id, choice.logprob or 0.0, choice.top))
            if row.text.push(choice.token_id):
                finish = "stop"
            elif row.generated >= params.max_tokens or len(group.prompt_ids) + row.generated >= group.max_seq_len:
                finish = "length"
        text, released = row.text.release(final=finish is not None)
        logprobs = (
            [TokenLogprob(*row.logprobs[i], offset=row.text.starts[i]) for i in released] if params.logprobs else []
        )
        if finish is None and not text and not logprobs:
            return None
        if finish is not None:
            row.finished = True
        return ChoiceUpdate(row.index, text, logprobs, finish, row.generated if finish else 0, row.generated)

    def _remove_finished(self) -> None:
        if not any(row.finished for row in self._rows):
            return
        keep = [i for i, row in enumerate(self._rows) if not row.finished]
        for row in self._rows:
            if row.finished:
                row.group.open_rows -= 1
                if row.group.open_rows == 0:
                    self._release(row.group)
        self._rows = [self._rows[i] for i in keep]
        self._batch.keep(keep)

    def _release(self, group: Group) -> None:
        if group.adapter is not None and group.slot is not None:
            self.pool.release(group.adapter.name, group.slot)
            group.slot = None
