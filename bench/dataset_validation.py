"""Benchmark: Tunery's streaming validate+analyse vs a naive load-everything baseline.

    .venv/bin/python bench/dataset_validation.py            # 100k examples, then 4x (400k)
    .venv/bin/python bench/dataset_validation.py --quick    # 10k examples, then 4x (40k)

Each measurement runs in its own subprocess so its peak RSS (ru_maxrss of that process) is
honest; the tokenizer load is excluded from the timed section but included in peak memory.
The generated chat JSONL mimics a real fine-tuning set: a few shared system prompts, user
and assistant turns with log-normal word counts drawn from English text, some multi-turn.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _vocabulary() -> tuple[list[str], list[float]]:
    """English words with their natural (Zipf-like) frequencies, from the stdlib's docstrings."""
    import collections
    import re
    import sysconfig

    counts: collections.Counter[str] = collections.Counter()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for name in (
        "argparse.py",
        "collections/__init__.py",
        "subprocess.py",
        "typing.py",
        "email/message.py",
        "http/client.py",
        "logging/__init__.py",
        "json/decoder.py",
        "zipfile/__init__.py",
        "tarfile.py",
    ):
        path = stdlib / name
        if path.exists():
            counts.update(re.findall(r"[A-Za-z][a-z]+|[0-9]+|[,.;:?!()]", path.read_text(errors="replace")))
    words = list(counts)
    return words, [counts[w] for w in words]


def generate(path: Path, n: int, seed: int = 0) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    words, weights = _vocabulary()
    vocab = np.array(words, dtype=object)
    cdf = np.cumsum(weights) / sum(weights)

    def text(size: int) -> str:
        return " ".join(vocab[np.searchsorted(cdf, rng.random(size))]).capitalize()

    systems = [text(size) for size in (12, 25, 40, 60, 90)]
    with open(path, "w", encoding="utf-8") as out:
        for _ in range(n):
            messages = []
            if rng.random() < 0.6:
                messages.append({"role": "system", "content": systems[rng.integers(len(systems))]})
            turns = 1 if rng.random() < 0.85 else int(rng.integers(2, 4))
            # Log-normal word counts: most turns are short, a few are long (capped at 1500 words).
            user, answer = np.clip(rng.lognormal(np.log([40, 60]), [0.9, 1.0], size=(turns, 2)), 1, 1500).astype(int).T
            for u, a in zip(user, answer):
                messages.append({"role": "user", "content": text(u)})
                messages.append({"role": "assistant", "content": text(a)})
            out.write(json.dumps({"messages": messages}, ensure_ascii=False) + "\n")


def run_tunery(path: str) -> int:
    from workers.ml.base_models import load_tokenizer
    from workers.ml.data import validate_and_analyse

    tokenizer = load_tokenizer()
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    report = validate_and_analyse(path, tokenizer=tokenizer, max_seq_len=8192)
    _emit(start, cpu_start, report.n_examples, report.stats.get("total_tokens"))
    return 0


def run_naive(path: str) -> int:
    """What a straightforward script does: read everything, parse everything, then template
    and tokenise one row at a time."""
    from workers.ml.base_models import load_tokenizer

    tokenizer = load_tokenizer()
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    with open(path, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle.read().splitlines() if line.strip()]
    total = sum(len(tokenizer.apply_chat_template(row["messages"], tokenize=True)["input_ids"]) for row in rows)
    _emit(start, cpu_start, len(rows), total)
    return 0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # all threads of this process
    return usage.ru_utime + usage.ru_stime


def _emit(start: float, cpu_start: float, n_examples: int, total_tokens: int | None) -> None:
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_s": _cpu_seconds() - cpu_start,
                "examples": n_examples,
                "tokens": total_tokens,
                "peak_mib": peak_mib,
            }
        )
    )


def measure(kind: str, path: Path, repeat: int) -> dict:
    """Best of ``repeat`` runs (least wall time: the run least disturbed by other processes),
    each in a fresh subprocess; peak memory is the largest seen."""
    runs = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, __file__, "--worker", kind, str(path)], capture_output=True, text=True, check=True
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda run: run["seconds"])
    best["peak_mib"] = max(run["peak_mib"] for run in runs)
    best["examples_per_s"] = best["examples"] / best["seconds"]
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=100_000, help="size of the first file")
    parser.add_argument("--quick", action="store_true", help="10k examples instead of 100k")
    parser.add_argument("--scale", type=int, default=4, help="the second file is this many times larger (0: none)")
    parser.add_argument("--skip-naive", action="store_true", help="only run Tunery's (memory scaling)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the fastest is reported")
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, path = args.worker
        return run_tunery(path) if kind == "tunery" else run_naive(path)

    n = 10_000 if args.quick else args.examples
    with tempfile.TemporaryDirectory(prefix="tunery-bench-") as folder:
        small, large = Path(folder) / "small.jsonl", Path(folder) / "large.jsonl"
        t0 = time.perf_counter()
        generate(small, n, seed=0)
        if args.scale:
            generate(large, n * args.scale, seed=1)
        sizes = " + ".join(f"{p.stat().st_size / 2**20:.0f} MiB" for p in (small, large) if p.exists())
        print(f"generated {n} (+ {n * args.scale}) examples in {time.perf_counter() - t0:.0f}s ({sizes})")
        rows = [("tunery", n, measure("tunery", small, args.repeat))]
        if not args.skip_naive:
            rows.append(("naive", n, measure("naive", small, args.repeat)))
        if args.scale:
            rows.append(("tunery", n * args.scale, measure("tunery", large, args.repeat)))
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        print(
            f"{'run':8} {'examples':>9} {'seconds':>8} {'CPU s':>7} {'examples/s':>11} {'tokens':>11} {'peak MiB':>9}"
        )
        for name, size, r in rows:
            print(
                f"{name:8} {size:9d} {r['seconds']:8.1f} {r['cpu_s']:7.1f} {r['examples_per_s']:11.0f} "
                f"{r['tokens']:11d} {r['peak_mib']:9.0f}"
            )
        tunery = rows[0][2]
        if not args.skip_naive:
            naive = rows[1][2]
            if naive["tokens"] != tunery["tokens"]:
                print(f"WARNING: token totals differ: tunery {tunery['tokens']} vs naive {naive['tokens']}")
            print(
                f"throughput ratio tunery/naive: {tunery['examples_per_s'] / naive['examples_per_s']:.2f}x; "
                f"peak memory naive/tunery: {naive['peak_mib'] / tunery['peak_mib']:.2f}x"
            )
        if args.scale:
            print(
                f"peak memory {args.scale}x file / 1x file (tunery): {rows[-1][2]['peak_mib'] / tunery['peak_mib']:.3f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
