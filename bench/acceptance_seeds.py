"""The bar of the embedded acceptance test, over many seeds.

tests/jobs/test_embedded_end_to_end.py fine-tunes the embedded model on the topic task
(tests/ml/topic_task.py: 60 training chats, 30 validation chats, labels no base model can know)
with every hyperparameter on auto and a random seed, then asserts the job's own evaluation. A
bar that holds on one seed only is not a bar: this script runs the same path the job runs
(train() with the job's seed, then evaluate() on the validation file) for several seeds, each
also drawing its own rows, and prints the minimum the test's bar must stay under.

    .venv/bin/python bench/acceptance_seeds.py --seeds 5 --threads 1
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import tempfile
import time
from pathlib import Path

from workers.ml.base_models import EMBEDDED_DEFAULT
from workers.ml.evaluation import EvaluationConfig, evaluate
from workers.ml.trainer import TrainConfig, train

# The test's own task file, loaded by path: tests/ is not an installed package.
_TOPIC_TASK = Path(__file__).resolve().parents[1] / "tests" / "ml" / "topic_task.py"
_spec = importlib.util.spec_from_file_location("topic_task", _TOPIC_TASK)
topic_task = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(topic_task)


def run(seed: int, folder: Path) -> dict:
    train_file, validation_file = topic_task.write_task(folder, n_train=60, n_validation=30, seed=seed)
    started = time.monotonic()
    result = train(TrainConfig(EMBEDDED_DEFAULT, train_file, folder / "job", validation_file, {}, seed=seed))
    report = evaluate(EvaluationConfig(adapter_dir=result.adapter_dir, validation_file=validation_file)).to_dict()
    return {
        "seed": seed,
        "base_exact": report["base"]["exact_match_accuracy"],
        "fine_tuned_exact": report["fine_tuned"]["exact_match_accuracy"],
        "learning_rate": result.hyperparameters.learning_rate,
        "answer_familiarity": result.hyperparameters.answer_familiarity,
        "seconds": round(time.monotonic() - started),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--out", default="var/bench/acceptance-seeds.json")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    runs = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        with tempfile.TemporaryDirectory(prefix="tunery-acceptance-") as tmp:
            runs.append(run(seed, Path(tmp)))
        print(json.dumps(runs[-1]), flush=True)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(runs, indent=2))
    tuned = [r["fine_tuned_exact"] for r in runs]
    base = [r["base_exact"] for r in runs]
    print(f"fine-tuned exact match over {len(runs)} seeds: min {min(tuned):.3f} mean {statistics.mean(tuned):.3f}")
    print(f"base exact match: max {max(base):.3f}")


if __name__ == "__main__":
    main()
