"""Which checkpoint should a job serve? One training run, every checkpoint replayed on new data.

For each task and seed (bench/learning_tasks.py) this trains once through Tunery's job path
(the job's 10 % hold-out as validation, ``workers.ml.trainer.train``), validating and
checkpointing every ``--eval-every`` epochs, then answers the task's shifted held-out set with
every checkpoint. Side by side per checkpoint: what training could see (validation loss and
the validation answer score of ``workers/ml/answer_probe.py``) and what users would get (the
held-out score). The stopping rules are then compared on the same run:

- ``last``: the final step;
- ``served``: the step the trainer keeps (best validation answers, ties to lower loss);
- ``earliest best``: the first pass that reached the best validation answer score;
- ``oracle``: the best held-out checkpoint (an upper bound no rule can see).

    .venv/bin/python bench/stopping.py --tasks routing,extraction --seeds 2 --lr 2e-3 --batch 8 --epochs 4
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from learning import HELD_OUT_FRACTION, answer_all, hold_out_like_a_job, score_answers
from learning_tasks import TASKS, reference_answer

from workers.ml.base_models import EMBEDDED_DEFAULT, default_device
from workers.ml.checkpoints import list_checkpoints
from workers.ml.generation import ChatModel
from workers.ml.hyperparameters import base_learning_rate
from workers.ml.trainer import EvalMetrics, TrainConfig, TrainingCallbacks, train


class Passes(TrainingCallbacks):
    def __init__(self) -> None:
        self.passes: dict[int, EvalMetrics] = {}

    def on_eval(self, metrics: EvalMetrics) -> None:
        self.passes[metrics.step] = metrics
        print(
            f"    step {metrics.step}: validation loss {metrics.validation_loss:.4f}, "
            f"{metrics.answer_metric} {metrics.answer_score}",
            flush=True,
        )


def run_one(task_name: str, seed: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    task = TASKS[task_name]
    train_rows, test_rows = task.rows(seed, args.n_train, args.n_test)
    folder = workdir / f"{task_name}-{seed}"
    folder.mkdir(parents=True)
    train_file, validation_file = hold_out_like_a_job(train_rows, folder, seed)
    assert validation_file is not None, "the stopping rules need a validation set: use more training rows"
    steps_per_epoch = -(-round(len(train_rows) * (1 - HELD_OUT_FRACTION)) // args.batch)
    interval = max(1, round(steps_per_epoch * args.eval_every))
    hyperparameters = {
        "learning_rate_multiplier": args.lr / base_learning_rate(EMBEDDED_DEFAULT),
        "batch_size": args.batch,
        "n_epochs": args.epochs,
        "eval_interval": interval,
        "checkpoint_interval": interval,
    }
    callbacks = Passes()
    started = time.monotonic()
    result = train(
        TrainConfig(
            EMBEDDED_DEFAULT,
            train_file,
            folder / "job",
            validation_file,
            hyperparameters,
            seed=seed,
            device=args.device,
        ),
        callbacks,
    )
    trained = time.monotonic() - started
    chat = ChatModel(EMBEDDED_DEFAULT, args.device)
    longest = max(len(chat.tokenizer(reference_answer(r), add_special_tokens=False)["input_ids"]) for r in test_rows)
    held_out_scores = {}
    for checkpoint in list_checkpoints(folder / "job"):
        step = int(checkpoint.name.removeprefix("step-"))
        chat.load_adapter(checkpoint, f"step-{step}")
        answers = answer_all(chat, f"step-{step}", test_rows, longest + 8)
        held_out_scores[step] = score_answers(task, test_rows, answers)["score"]
        print(f"    step {step}: held-out {task.metric} {held_out_scores[step]:.3f}", flush=True)
    passes = {step: callbacks.passes[step] for step in held_out_scores if step in callbacks.passes}
    best_answers = max(p.answer_score for p in passes.values())
    rules = {
        "last": result.step,
        "served": result.best_step,
        "earliest best": min(step for step, p in passes.items() if p.answer_score == best_answers),
        "oracle": max(held_out_scores, key=held_out_scores.get),
    }
    return {
        "task": task_name,
        "seed": seed,
        "hyperparameters": hyperparameters,
        "train_s": round(trained, 1),
        "passes": {
            step: {"validation_loss": p.validation_loss, "answers": p.answer_score, "held_out": held_out_scores[step]}
            for step, p in sorted(passes.items())
        },
        "rules": {name: {"step": step, "held_out": held_out_scores[step]} for name, step in rules.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default="routing,extraction")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--eval-every", type=float, default=0.5, help="in epochs")
    parser.add_argument("--n-train", type=int, default=240)
    parser.add_argument("--n-test", type=int, default=40)
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", default="var/bench/stopping.json")
    parser.add_argument("--threads", type=int, help="torch threads (1 on a machine shared with other jobs)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    args.device = args.device or default_device()
    out = Path(args.out)
    runs = json.loads(out.read_text())["runs"] if out.exists() else []
    with tempfile.TemporaryDirectory() as workdir:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for name in args.tasks.split(","):
                print(f"[{time.strftime('%H:%M:%S')}] {name} seed {seed} lr {args.lr:g} batch {args.batch}", flush=True)
                runs.append(run_one(name, seed, args, Path(workdir)))
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(json.dumps({"runs": runs}, indent=1))
    print("| task | seed | lr | " + " | ".join(runs[-1]["rules"]) + " |")
    for run in runs:
        cells = [f"{r['held_out']:.3f} (step {r['step']})" for r in run["rules"].values()]
        lr = run["hyperparameters"]["learning_rate_multiplier"] * base_learning_rate(EMBEDDED_DEFAULT)
        print(f"| {run['task']} | {run['seed']} | {lr:g} | " + " | ".join(cells) + " |")
    for rule in runs[-1]["rules"]:
        print(f"mean {rule}: {statistics.fmean(r['rules'][rule]['held_out'] for r in runs):.3f}")


if __name__ == "__main__":
    main()
