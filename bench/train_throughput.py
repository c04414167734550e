"""Training throughput: Tunery's trainer vs a plain transformers Trainer + peft script.

Both train the same LoRA (all linear layers, r=16) on the same generated chat data, one epoch,
same batch size and learning rate, loss on assistant tokens only. The baseline does what a
typical fine-tuning script does: pad every batch to the maximum length and compute logits for
every position. Tunery groups batches by length, pads each only to its own longest row, and
projects to the vocabulary only where a token is trained.

Throughput counts useful (non-padding) tokens per second of training-step time, so padding
costs the baseline time without earning it tokens. On CUDA it also reports MFU.

    .venv/bin/python bench/train_throughput.py            # embedded SmolLM2-135M (minutes on CPU)
    .venv/bin/python bench/train_throughput.py --tiny     # tiny random Llama, seconds
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import torch

from workers.ml.base_models import EMBEDDED_DEFAULT, BaseModelSpec, load_model, load_tokenizer, make_tiny_random_model
from workers.ml.batching import length_grouped_batches
from workers.ml.chat_format import EncodedExample, encode_dataset
from workers.ml.jsonl import read_jsonl
from workers.ml.trainer import StepMetrics, TrainConfig, TrainingCallbacks, plan_training, train

WORDS = (
    "the a model data train answer question system user value number result method table customer order "
    "invoice shipping return policy account password reset error message server request latency report "
    "summary quarter revenue growth market product feature release version update bug fix test"
).split()
# Dense bf16 peak per GPU, for MFU; matched against torch.cuda.get_device_name().
PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12, "A10": 125e12}


def sentence(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n_words)).capitalize() + "."


def write_dataset(path: Path, n_examples: int, seed: int = 0) -> Path:
    """Chats whose lengths spread like real support/instruction data: most short, a long tail.

    Prompt and answer lengths are log-normal (median ~40 and ~15 words), capped so the
    longest example stays near 400 tokens.
    """
    rng = random.Random(seed)
    rows = []
    for _ in range(n_examples):
        prompt_words = min(300, max(3, int(rng.lognormvariate(3.7, 0.8))))
        answer_words = min(120, max(1, int(rng.lognormvariate(2.7, 0.9))))
        rows.append(
            {
                "messages": [
                    {"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": sentence(rng, prompt_words)},
                    {"role": "assistant", "content": sentence(rng, answer_words)},
                ]
            }
        )
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def lora_hyperparameters(batch_size: int) -> dict:
    return {
        "n_epochs": 1,
        "batch_size": batch_size,
        "lora_r": 16,
        "lora_alpha": 32,
        "lora_dropout": 0.05,
        "warmup_ratio": 0.05,
        "lr_scheduler": "linear",
    }


class StepClock(TrainingCallbacks):
    def __init__(self) -> None:
        self.seconds = 0.0
        self.tokens = 0

    def on_step(self, metrics: StepMetrics) -> None:
        self.seconds += metrics.tokens / metrics.tokens_per_second
        self.tokens += metrics.tokens


def run_tunery(spec: BaseModelSpec, data: Path, batch_size: int, device: str, workdir: Path) -> dict:
    clock = StepClock()
    config = TrainConfig(
        spec, data, workdir / "tunery", hyperparameters=lora_hyperparameters(batch_size), device=device, resume=False
    )
    train(config, clock)
    lengths = [len(e) for e in plan_training(config).train]
    computed = sum(
        len(b) * max(lengths[i] for i in b) for b in length_grouped_batches(lengths, batch_size, config.seed, 0)
    )
    return {"tokens": clock.tokens, "seconds": clock.seconds, "computed_tokens": computed}


def run_hf_trainer(
    spec: BaseModelSpec, examples: list[EncodedExample], batch_size: int, max_len: int, device: str, workdir: Path
) -> dict:
    """The common recipe: Trainer + peft, every batch padded to max_len, logits everywhere."""
    from peft import LoraConfig, get_peft_model
    from transformers import Trainer, TrainerCallback, TrainingArguments

    pad = load_tokenizer(spec).pad_token_id
    rows = [
        {
            "input_ids": e.input_ids + [pad] * (max_len - len(e)),
            "attention_mask": [1] * len(e) + [0] * (max_len - len(e)),
            "labels": e.labels + [-100] * (max_len - len(e)),
        }
        for e in examples
    ]
    hp = lora_hyperparameters(batch_size)
    model = get_peft_model(
        load_model(spec, device),
        LoraConfig(
            r=hp["lora_r"],
            lora_alpha=hp["lora_alpha"],
            lora_dropout=hp["lora_dropout"],
            target_modules=spec.lora_target_modules,
            task_type="CAUSAL_LM",
        ),
    )

    class Clock(TrainerCallback):
        seconds = 0.0
        started = 0.0

        def on_step_begin(self, args, state, control, **kwargs):
            if device == "cuda":
                torch.cuda.synchronize()
            Clock.started = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            if device == "cuda":
                torch.cuda.synchronize()
            Clock.seconds += time.perf_counter() - Clock.started

    args = TrainingArguments(
        output_dir=str(workdir / "hf"),
        per_device_train_batch_size=batch_size,
        num_train_epochs=1,
        learning_rate=5e-4,
        lr_scheduler_type="linear",
        warmup_steps=hp["warmup_ratio"],
        max_grad_norm=1.0,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        logging_strategy="no",
        seed=42,
        use_cpu=device == "cpu",
        bf16=device == "cuda",
    )
    Trainer(
        model=model,
        args=args,
        train_dataset=[{k: torch.tensor(v) for k, v in r.items()} for r in rows],
        callbacks=[Clock()],
    ).train()
    return {"tokens": sum(len(e) for e in examples), "seconds": Clock.seconds, "computed_tokens": len(rows) * max_len}


def mfu(spec: BaseModelSpec, tokens_per_second: float) -> float | None:
    """Model FLOPs utilisation on CUDA: LoRA keeps base weights frozen, so a token costs about
    2N (forward) + 2N (gradients w.r.t. activations) FLOPs for N base parameters."""
    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    peak = next((flops for key, flops in PEAK_BF16_FLOPS.items() if key in name), None)
    if peak is None:
        return None
    n_params = sum(p.numel() for p in load_model(spec, "cpu").parameters())
    return 4 * n_params * tokens_per_second / peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="tiny random Llama instead of the embedded model")
    parser.add_argument("--examples", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--repeat", type=int, default=1, help="alternate the two runs N times and keep each one's fastest"
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()

    baseline_name, tunery_name = "transformers Trainer + peft (pad to max)", "Tunery trainer"
    best: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        spec = make_tiny_random_model(workdir / "tiny") if args.tiny else EMBEDDED_DEFAULT
        data = write_dataset(workdir / "train.jsonl", args.examples)
        examples, report = encode_dataset(load_tokenizer(spec), read_jsonl(data), spec.max_seq_len)
        lengths = sorted(len(e) for e in examples)
        print(
            f"model {spec.name} on {args.device}, {len(examples)} examples, {report.total_tokens} tokens, "
            f"length min/median/max {lengths[0]}/{lengths[len(lengths) // 2]}/{lengths[-1]}, batch {args.batch_size}"
        )
        # Alternating the two and keeping each one's fastest run evens out noise from other
        # processes on a shared machine.
        for _ in range(args.repeat):
            runs = {
                baseline_name: run_hf_trainer(spec, examples, args.batch_size, report.longest, args.device, workdir),
                tunery_name: run_tunery(spec, data, args.batch_size, args.device, workdir),
            }
            for name, run in runs.items():
                if name not in best or run["seconds"] < best[name]["seconds"]:
                    best[name] = run

    print(
        f"\n| {'trainer':<40} | {'useful tokens':>13} | {'computed tokens':>15} | {'step time s':>11} "
        f"| {'tokens/s':>8} | {'MFU':>5} |"
    )
    print(f"|{'-' * 42}|{'-' * 15}|{'-' * 17}|{'-' * 13}|{'-' * 10}|{'-' * 7}|")
    speeds = {}
    for name, run in best.items():
        speeds[name] = run["tokens"] / run["seconds"]
        utilisation = mfu(spec, speeds[name]) if args.device == "cuda" else None
        shown = f"{utilisation:.1%}" if utilisation is not None else "n/a"
        print(
            f"| {name:<40} | {run['tokens']:>13} | {run['computed_tokens']:>15} | {run['seconds']:>11.1f} "
            f"| {speeds[name]:>8.1f} | {shown:>5} |"
        )
    print(f"\nTunery / baseline throughput: {speeds[tunery_name] / speeds[baseline_name]:.2f}x")


if __name__ == "__main__":
    main()
