"""Learning quality: how well does a fine-tune answer held-out data it has never seen?

Six generated tasks (bench/learning_tasks.py), each with training rows from one distribution
and held-out rows from a shifted one. For every task and seed (the seed draws the data and
seeds the training) each mode trains on the task's training file and answers every held-out
prompt greedily; the answers are scored with the task's answer-level metric.

- ``base``: the base model, untrained.
- ``auto``: Tunery's pipeline as a job runs it with every hyperparameter "auto" and only a
  training file: the job's 10 % hold-out becomes the validation file (as
  platform/tunery/jobs/runner.py does), ``workers.ml.trainer.train`` trains, and
  ``workers.ml.generation.ChatModel`` answers with the adapter.
- ``reference``: what a practitioner would write without Tunery, a plain transformers + peft
  loop (``train_reference`` below: LoRA r=16 α=32 on all linear layers, AdamW lr 2e-4, 3
  epochs, batch 8, linear decay, loss on assistant turns only) on the whole training file.
- ``sweep``: the job path with explicit learning rate × epochs × batch size; the table shows
  the grid point with the best mean over the seeds run, so it is an optimistic bound.

Every mode's answers come from the same ``ChatModel`` with the same greedy settings, so only
the training differs. Results go to a JSON file after every run (``--resume`` skips runs it
already holds), and the summary table prints mean, min and mean wall time per task and mode.

    .venv/bin/python bench/learning.py --quick                 # every task, tiny sizes, one epoch: minutes
    .venv/bin/python bench/learning.py --quick --tiny-model    # plumbing only, tiny random Llama
    .venv/bin/python bench/learning.py --seeds 3 --modes base,auto,reference,sweep --sweep-grid small \\
        --out var/bench/learning.json --markdown               # the full suite: days on 2 CPU cores
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from learning_tasks import TASKS, Row, Task, reference_answer

from workers.ml.base_models import EMBEDDED_DEFAULT, BaseModelSpec, default_device, load_model, load_tokenizer
from workers.ml.data.transform import split
from workers.ml.generation import ChatModel, GenerationSettings
from workers.ml.hyperparameters import base_learning_rate
from workers.ml.manifest import build_manifest, write_manifest
from workers.ml.trainer import EvalMetrics, TrainConfig, TrainingCallbacks, train

REPO = Path(__file__).resolve().parents[1]
MODES = ("base", "auto", "reference", "sweep")
# The job's hold-out when there is no validation file: platform/tunery/jobs/holdout.py.
HELD_OUT_FRACTION = 0.1
HOLD_OUT_FROM = 20
SWEEP_GRIDS: dict[str, dict[str, list[float]]] = {
    "small": {"lr": [2.5e-4, 5e-4, 1e-3, 2e-3], "epochs": [2, 4], "batch": [8, 16]},
    "tiny": {"lr": [5e-4, 2e-3], "epochs": [2, 4], "batch": [8]},
    "quick": {"lr": [2e-3], "epochs": [1], "batch": [8]},
}
REFERENCE = {
    "learning_rate": 2e-4,
    "epochs": 3,
    "batch_size": 8,
    "lora_r": 16,
    "lora_alpha": 32,
    "lora_dropout": 0.05,
    "warmup_ratio": 0.03,
}
ANSWER_BATCH = 8
N_WRONG_KEPT = 3


@dataclass(frozen=True)
class Run:
    task: str
    seed: int
    mode: str
    setting: str = ""  # the grid point of a sweep run
    hyperparameters: dict[str, Any] | None = None  # explicit ones, for sweep runs

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.task, self.seed, self.mode, self.setting)


def sweep_runs(task: str, seed: int, grid: dict[str, list[float]], spec: BaseModelSpec) -> list[Run]:
    runs = []
    for lr, epochs, batch in itertools.product(grid["lr"], grid["epochs"], grid["batch"]):
        hyperparameters = {
            "learning_rate_multiplier": lr / base_learning_rate(spec),
            "n_epochs": int(epochs),
            "batch_size": int(batch),
        }
        runs.append(Run(task, seed, "sweep", f"lr {lr:g}, {int(epochs)} ep, batch {int(batch)}", hyperparameters))
    return runs


def write_rows(path: Path, rows: list[Row]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


# -- training --------------------------------------------------------------------------------------


class Progress(TrainingCallbacks):
    """A line per validation pass, so a long run shows it is moving."""

    def on_eval(self, metrics: EvalMetrics) -> None:
        answers = f", {metrics.answer_metric} {metrics.answer_score:.3f}" if metrics.answer_score is not None else ""
        print(f"    epoch {metrics.epoch:.1f}: validation loss {metrics.validation_loss:.4f}{answers}", flush=True)


def hold_out_like_a_job(rows: list[Row], folder: Path, seed: int) -> tuple[Path, Path | None]:
    """The training and validation files a job with only a training file trains on."""
    train_file = write_rows(folder / "train.jsonl", rows)
    if len(rows) < HOLD_OUT_FROM:
        return train_file, None
    held_out = folder / "held_out"
    held_out.mkdir(parents=True)
    split(
        train_file,
        held_out / "train.jsonl",
        held_out / "validation.jsonl",
        validation_fraction=HELD_OUT_FRACTION,
        seed=seed,
    )
    return held_out / "train.jsonl", held_out / "validation.jsonl"


def train_like_a_job(
    spec: BaseModelSpec, rows: list[Row], folder: Path, seed: int, hyperparameters: dict[str, Any], device: str
) -> tuple[Path, dict[str, Any]]:
    """A job with only a training file: hold out validation rows, then train."""
    train_file, validation_file = hold_out_like_a_job(rows, folder, seed)
    config = TrainConfig(spec, train_file, folder / "job", validation_file, hyperparameters, seed=seed, device=device)
    result = train(config, Progress())
    hp = result.hyperparameters
    info = {
        "hyperparameters": {
            "learning_rate": hp.learning_rate,
            "n_epochs": hp.n_epochs,
            "batch_size": hp.batch_size,
            "total_steps": hp.total_steps,
            "answer_familiarity": hp.answer_familiarity,  # what an auto rate was chosen from
        },
        "n_train": result.data_report.kept,
        "train_loss": result.train_loss,
        "validation_loss": result.validation_loss,
        "served_step": result.best_step or result.step,  # the trainer serves its best validation pass
        "validation_answer_score": result.best_answer_score,
    }
    assert result.adapter_dir is not None
    return result.adapter_dir, info


# The assistant turns of a ChatML rendering (SmolLM2's template): their text and <|im_end|>.
ASSISTANT_TURN = re.compile(r"<\|im_start\|>assistant\n(.*?<\|im_end\|>)", re.S)


def encode_for_reference(tokenizer: Any, row: Row) -> tuple[list[int], list[int]]:
    """(input ids, labels) with loss on the completion or the assistant turns only."""
    if "prompt" in row:
        prompt = tokenizer(row["prompt"])["input_ids"]
        answer = tokenizer(row["completion"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        return prompt + answer, [-100] * len(prompt) + answer
    text = tokenizer.apply_chat_template(row["messages"], tokenize=False)
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    spans = [match.span(1) for match in ASSISTANT_TURN.finditer(text)]
    labels = [
        token if any(start <= offset < end for start, end in spans) else -100
        for token, (offset, _) in zip(encoding["input_ids"], encoding["offset_mapping"], strict=True)
    ]
    return encoding["input_ids"], labels


def train_reference(
    spec: BaseModelSpec, rows: list[Row], folder: Path, seed: int, device: str, settings: dict[str, Any]
) -> tuple[Path, dict[str, Any]]:
    """The plain script: shuffled batches padded to their longest row, HF's own loss."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import get_linear_schedule_with_warmup

    torch.manual_seed(seed)
    order_rng = random.Random(seed)
    tokenizer = load_tokenizer(spec)
    lora = LoraConfig(
        r=settings["lora_r"],
        lora_alpha=settings["lora_alpha"],
        lora_dropout=settings["lora_dropout"],
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(load_model(spec, device), lora)
    examples = [encode_for_reference(tokenizer, row) for row in rows]
    batch_size, epochs = settings["batch_size"], settings["epochs"]
    total_steps = epochs * math.ceil(len(examples) / batch_size)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=settings["learning_rate"])
    scheduler = get_linear_schedule_with_warmup(
        optimizer, math.ceil(settings["warmup_ratio"] * total_steps), total_steps
    )
    model.train()
    loss = torch.tensor(float("nan"))

    def padded(rows: list[list[int]], fill: int) -> torch.Tensor:
        width = max(len(row) for row in rows)
        return torch.tensor([row + [fill] * (width - len(row)) for row in rows], device=device)

    for _ in range(epochs):
        order = list(range(len(examples)))
        order_rng.shuffle(order)
        for start in range(0, len(order), batch_size):
            ids, labels = zip(*(examples[i] for i in order[start : start + batch_size]), strict=True)
            loss = model(
                input_ids=padded(list(ids), tokenizer.pad_token_id),
                attention_mask=padded([[1] * len(row) for row in ids], 0),
                labels=padded(list(labels), -100),
            ).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
    adapter_dir = folder / "adapter"
    model.save_pretrained(adapter_dir)
    # A manifest so the same ChatModel serves it, with the same template, as Tunery's adapters.
    data_format = "completion" if "prompt" in rows[0] else "chat"
    hyperparameters = {**settings, "max_seq_len": spec.max_seq_len, "total_steps": total_steps}
    write_manifest(adapter_dir, build_manifest(spec, tokenizer, data_format, hyperparameters, total_steps))
    info = {
        "hyperparameters": {**settings, "total_steps": total_steps},
        "n_train": len(rows),
        "train_loss": loss.item(),
    }
    return adapter_dir, info


# -- answering and scoring -----------------------------------------------------------------------


def answer_all(chat: ChatModel, adapter: str | None, rows: list[Row], max_new_tokens: int) -> list[str]:
    """Greedy answers to each held-out prompt (the row without its final answer)."""
    prompts = [
        chat.text_prompt(row["prompt"]) if "prompt" in row else chat.chat_prompt(row["messages"][:-1], adapter)
        for row in rows
    ]
    settings = GenerationSettings(max_new_tokens=max_new_tokens, temperature=0.0)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))  # similar lengths: less left-padding
    answers: dict[int, str] = {}
    for start in range(0, len(order), ANSWER_BATCH):
        chunk = order[start : start + ANSWER_BATCH]
        for i, generation in zip(chunk, chat.generate([prompts[i] for i in chunk], settings, adapter), strict=True):
            answers[i] = generation.text
    return [answers[i] for i in range(len(rows))]


def score_answers(task: Task, rows: list[Row], answers: list[str]) -> dict[str, Any]:
    references = [reference_answer(row) for row in rows]
    per_row = [task.score(reference, answer) for reference, answer in zip(references, answers, strict=True)]
    metrics = {name: statistics.fmean(scores[name] for scores in per_row) for name in per_row[0]}
    wrong = [
        {"prompt": row.get("prompt") or row["messages"][-2]["content"], "reference": reference, "answer": answer}
        for row, reference, answer, scores in zip(rows, references, answers, per_row, strict=True)
        if scores[task.metric] < 1.0
    ]
    return {"score": metrics[task.metric], "metrics": metrics, "wrong": wrong[:N_WRONG_KEPT]}


# -- the suite ------------------------------------------------------------------------------------


class Suite:
    def __init__(self, args: argparse.Namespace, spec: BaseModelSpec, workdir: Path) -> None:
        self.args, self.spec, self.workdir = args, spec, workdir
        # --quick trains one epoch everywhere: it checks the plumbing, its scores mean nothing.
        self.reference = {**REFERENCE, "epochs": 1} if args.quick else REFERENCE
        self.auto_overrides = {"n_epochs": 1} if args.quick else {}
        self.out = Path(args.out)
        self.meta = {
            "model": spec.name,
            "n_train": args.n_train,
            "n_test": args.n_test,
            "device": args.device,
            "torch_threads": _torch_threads(),
            "commit": _commit(),
            "reference": self.reference,
            "auto_overrides": self.auto_overrides,
        }
        self.results: list[dict[str, Any]] = []
        if args.resume and self.out.exists():
            saved = json.loads(self.out.read_text())
            if any(saved["meta"].get(key) != self.meta[key] for key in ("model", "n_train", "n_test")):
                raise SystemExit(f"{self.out} was made with other sizes or another model; use another --out.")
            self.results = saved["runs"]
        self._base_chat: ChatModel | None = None

    @property
    def base_chat(self) -> ChatModel:
        if self._base_chat is None:
            self._base_chat = ChatModel(self.spec, self.args.device)
        return self._base_chat

    def done(self, run: Run) -> bool:
        return any(tuple(r[k] for k in ("task", "seed", "mode", "setting")) == run.key for r in self.results)

    def execute(self, run: Run, train_rows: list[Row], test_rows: list[Row]) -> dict[str, Any]:
        task = TASKS[run.task]
        folder = self.workdir / f"{run.task}-{run.seed}-{run.mode}-{len(self.results)}"
        folder.mkdir(parents=True)
        started = time.monotonic()
        adapter_dir, info = None, {}
        try:
            if run.mode == "reference":
                adapter_dir, info = train_reference(
                    self.spec, train_rows, folder, run.seed, self.args.device, self.reference
                )
            elif run.mode in ("auto", "sweep"):
                hyperparameters = run.hyperparameters or self.auto_overrides
                adapter_dir, info = train_like_a_job(
                    self.spec, train_rows, folder, run.seed, hyperparameters, self.args.device
                )
            trained = time.monotonic()
            # A fresh model per adapter: peft cannot switch back to the base once the last
            # adapter is deleted, and nothing of one run can leak into the next.
            chat, adapter = self.base_chat, None
            if adapter_dir is not None:
                chat, adapter = ChatModel(self.spec, self.args.device), "tuned"
                chat.load_adapter(adapter_dir, adapter)
            longest = max(
                len(chat.tokenizer(reference_answer(r), add_special_tokens=False)["input_ids"]) for r in test_rows
            )
            answers = answer_all(chat, adapter, test_rows, longest + 8)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        finished = time.monotonic()
        return {
            "task": run.task,
            "seed": run.seed,
            "mode": run.mode,
            "setting": run.setting,
            **score_answers(task, test_rows, answers),
            "wall_s": round(finished - started, 1),
            "train_s": round(trained - started, 1),
            "answer_s": round(finished - trained, 1),
            "n_test": len(test_rows),
            **info,
        }

    def save(self) -> None:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.out.with_suffix(".tmp")
        scratch.write_text(
            json.dumps({"meta": self.meta, "runs": self.results, "summary": summarise(self.results)}, indent=1)
        )
        os.replace(scratch, self.out)

    def run(self, tasks: list[str], seeds: list[int], modes: list[str], grid: dict[str, list[float]]) -> None:
        for seed in seeds:
            for name in tasks:
                runs = [
                    run
                    for mode in modes
                    for run in (sweep_runs(name, seed, grid, self.spec) if mode == "sweep" else [Run(name, seed, mode)])
                    if not self.done(run)
                ]
                if not runs:
                    continue
                train_rows, test_rows = TASKS[name].rows(seed, self.args.n_train, self.args.n_test)
                for run in runs:
                    print(f"[{time.strftime('%H:%M:%S')}] {name} seed {seed} {run.mode} {run.setting}", flush=True)
                    result = self.execute(run, train_rows, test_rows)
                    print(
                        f"    score {result['score']:.3f} {result['metrics']}  wall {result['wall_s']} s "
                        f"(train {result['train_s']} s)  {result.get('hyperparameters', '')}",
                        flush=True,
                    )
                    self.results.append(result)
                    self.save()


def _commit() -> str:
    """The commit measured, marked when the ML code differs from it in the working tree."""

    def git(*command: str) -> str:
        return subprocess.run(["git", *command], capture_output=True, text=True, cwd=REPO).stdout.strip()

    dirty = git("status", "--porcelain", "--", "workers")
    return git("rev-parse", "--short", "HEAD") + (" + uncommitted changes in workers/" if dirty else "")


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def summarise(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per task and mode: mean, min and max score over seeds, mean wall time. For the sweep,
    the grid point with the best mean (``points`` lists them all)."""

    def stats(runs: list[dict[str, Any]]) -> dict[str, Any]:
        scores = [r["score"] for r in runs]
        return {
            "mean": statistics.fmean(scores),
            "min": min(scores),
            "max": max(scores),
            "n_seeds": len(scores),
            "wall_s": statistics.fmean(r["wall_s"] for r in runs),
        }

    summary: dict[str, dict[str, Any]] = {}
    for task in [name for name in TASKS if any(r["task"] == name for r in results)]:  # suite order
        of_task = [r for r in results if r["task"] == task]
        summary[task] = {}
        for mode in MODES:
            runs = [r for r in of_task if r["mode"] == mode]
            if not runs:
                continue
            if mode != "sweep":
                summary[task][mode] = stats(runs)
                continue
            points = {
                s: stats([r for r in runs if r["setting"] == s]) for s in dict.fromkeys(r["setting"] for r in runs)
            }
            most_seeds = max(p["n_seeds"] for p in points.values())
            best = max((s for s, p in points.items() if p["n_seeds"] == most_seeds), key=lambda s: points[s]["mean"])
            summary[task][mode] = {**points[best], "setting": best, "points": points}
    return summary


def table(summary: dict[str, dict[str, Any]], modes: list[str], markdown: bool) -> str:
    header = ["task (metric)"] + [f"{'sweep best' if m == 'sweep' else m} mean / min / wall s" for m in modes]
    rows = []
    for task, by_mode in summary.items():
        cells = [f"{task} ({TASKS[task].metric})"]
        for mode in modes:
            s = by_mode.get(mode)
            cells.append(
                "–"
                if s is None
                else f"{s['mean']:.3f} / {s['min']:.3f} / {s['wall_s']:.0f}"
                + (f" (n={s['n_seeds']})" if s["n_seeds"] != max(v["n_seeds"] for v in by_mode.values()) else "")
            )
        rows.append(cells)
    notes = [
        f"sweep best for {task}: {by_mode['sweep']['setting']}"
        for task, by_mode in summary.items()
        if "sweep" in by_mode
    ]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    else:
        widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in [header, *rows]]
    return "\n".join(lines + [""] + notes)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated, of {', '.join(TASKS)}")
    parser.add_argument("--seeds", type=int, default=3, help="how many seeds: first-seed, first-seed + 1, ...")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--sweep-grid", choices=sorted(SWEEP_GRIDS), default="small")
    parser.add_argument("--sweep-lr", help="comma-separated learning rates, replacing the grid's")
    parser.add_argument("--sweep-epochs", help="comma-separated epoch counts, replacing the grid's")
    parser.add_argument("--sweep-batch", help="comma-separated batch sizes, replacing the grid's")
    parser.add_argument("--n-train", type=int, default=240)
    parser.add_argument("--n-test", type=int, default=40)
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 24 training rows, 6 held out, one seed, one epoch"
    )
    parser.add_argument(
        "--threads", type=int, help="torch threads; on a machine shared with other jobs 1 can be 3x faster than 2"
    )
    parser.add_argument("--tiny-model", action="store_true", help="tiny random Llama: plumbing only, seconds")
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    parser.add_argument("--out", default="var/bench/learning.json")
    parser.add_argument("--resume", action="store_true", help="keep the runs already in --out and skip them")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()
    if args.quick:
        args.n_train, args.n_test, args.seeds, args.sweep_grid = 24, 6, 1, "quick"
    args.device = args.device or default_device()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    unknown = {*args.tasks.split(","), *args.modes.split(",")} - {*TASKS, *MODES}
    if unknown:
        parser.error(f"unknown task or mode: {', '.join(sorted(unknown))}")
    return args


def main() -> None:
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # a bar per model load drowns the log
    args = parse_args()
    grid = dict(SWEEP_GRIDS[args.sweep_grid])
    for key, given in (("lr", args.sweep_lr), ("epochs", args.sweep_epochs), ("batch", args.sweep_batch)):
        if given:
            grid[key] = [float(v) for v in given.split(",")]
    tasks, modes = args.tasks.split(","), args.modes.split(",")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    with tempfile.TemporaryDirectory(prefix="tunery-learning-") as tmp:
        workdir = Path(tmp)
        spec = EMBEDDED_DEFAULT
        if args.tiny_model:
            from workers.ml.base_models import make_tiny_random_model

            spec = make_tiny_random_model(workdir / "tiny-model")
        suite = Suite(args, spec, workdir)
        suite.run(tasks, seeds, modes, grid)
    print()
    print(f"{spec.name}, seeds {seeds}, {args.n_train} training rows, {args.n_test} held out; {args.out}")
    print(table(summarise(suite.results), modes, args.markdown))


if __name__ == "__main__":
    main()
