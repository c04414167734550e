"""Inference engine benchmark: batching throughput, adapter memory, load time and latency.

Starts ``python -m workers.engine`` as a subprocess (so its memory is measured alone) and
talks to it over HTTP, as the gateway does:

(a) throughput: the same requests (8 clients over 4 adapters) served one at a time, then all
    clients at once (continuous batching with mixed adapters), then all at once on one adapter;
    generated tokens per second of wall time;
(b) memory: engine RSS with the base model only, then with 20 adapters loaded, against
    base + 20 × adapter file size and against 20 merged models (20 × base weights);
(c) cold adapter load time (POST /v1/load_lora_adapter) and time to first token, p50/p95.

The adapters are LoRA r=16 on all linear layers (the trainer's default shape) with random
weights and a real tunery_adapter.json: serving cost depends on their shape, not on what
they learned.

    .venv/bin/python bench/inference.py            # embedded SmolLM2-135M (a few minutes on 2 cores)
    .venv/bin/python bench/inference.py --tiny     # tiny random Llama, seconds
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import torch

from workers.ml.base_models import (
    EMBEDDED_DEFAULT,
    LLAMA_LINEAR_MODULES,
    BaseModelSpec,
    load_model,
    load_tokenizer,
    make_tiny_random_model,
)
from workers.ml.manifest import build_manifest, write_manifest

QUESTIONS = [
    "Explain what a refund policy is.",
    "Write a short note to a customer about a late order.",
    "What is the capital of France and why is it famous?",
    "List three tips for writing clear error messages.",
    "Describe a good password reset flow.",
    "Summarise the benefits of unit tests.",
    "How should a team plan a product release?",
    "What makes a good quarterly report?",
]

REPO = Path(__file__).resolve().parents[1]


def make_adapter(spec: BaseModelSpec, base: torch.nn.Module, folder: Path, seed: int) -> Path:
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    config = LoraConfig(r=16, lora_alpha=32, target_modules=LLAMA_LINEAR_MODULES, task_type="CAUSAL_LM")
    model = get_peft_model(base, config)
    for name, param in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.02)  # B starts at zero; give it weights so it does something
    model.save_pretrained(folder)
    hyperparameters = {"max_seq_len": spec.max_seq_len, "lora_r": 16}
    write_manifest(folder, build_manifest(spec, load_tokenizer(spec), "chat", hyperparameters, step=0))
    model.unload()  # take the LoRA layers out again, so the next adapter starts from the bare base
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Result:
    tokens: int
    ttft: float
    seconds: float


async def stream_chat(http: httpx.AsyncClient, model: str, question: str, max_tokens: int) -> Result:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": question}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    start = time.perf_counter()
    ttft = None
    tokens = 0
    async with http.stream("POST", "/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if ttft is None and chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                ttft = time.perf_counter() - start
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
    elapsed = time.perf_counter() - start
    return Result(tokens, ttft if ttft is not None else elapsed, elapsed)


async def run_clients(
    url: str, plan: list[list[tuple[str, str]]], max_tokens: int, concurrent: bool
) -> tuple[list[Result], float]:
    """Each inner list is one client's requests, sent one after another."""
    async with httpx.AsyncClient(base_url=url, timeout=600) as http:

        async def client(requests: list[tuple[str, str]]) -> list[Result]:
            return [await stream_chat(http, model, question, max_tokens) for model, question in requests]

        start = time.perf_counter()
        if concurrent:
            results = [r for rs in await asyncio.gather(*(client(c) for c in plan)) for r in rs]
        else:
            results = await client([request for c in plan for request in c])
        return results, time.perf_counter() - start


def summary(label: str, results: list[Result], wall: float) -> dict[str, float]:
    tokens = sum(r.tokens for r in results)
    ttfts = [r.ttft for r in results]
    row = {
        "requests": len(results),
        "tokens": tokens,
        "wall_s": round(wall, 2),
        "tokens_per_s": round(tokens / wall, 1),
        "ttft_p50_s": round(percentile(ttfts, 0.5), 3),
        "ttft_p95_s": round(percentile(ttfts, 0.95), 3),
    }
    print(f"{label:<34} {json.dumps(row)}", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="tiny random Llama instead of the embedded model")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--adapters", type=int, default=4, help="adapters the clients spread over")
    parser.add_argument("--requests-per-client", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--memory-adapters", type=int, default=20)
    parser.add_argument("--dtype", default="auto", help="the engine's --dtype (auto, float32, bfloat16, float16)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tunery-bench-"))
    if args.tiny:
        spec = make_tiny_random_model(work / "base")
        base_flags = ["--base-model-path", str(spec.path), "--served-model-name", "base"]
    else:
        spec = EMBEDDED_DEFAULT
        base_flags = ["--served-model-name", "base"]
    base = load_model(spec, "cpu")
    served_size = {"float32": 4, "bfloat16": 2, "float16": 2}.get(args.dtype)  # auto: as loaded here
    base_param_bytes = sum(p.numel() * (served_size or p.element_size()) for p in base.parameters())
    count = max(args.memory_adapters, args.adapters)
    adapters = [make_adapter(spec, base, work / f"adapter-{i}", seed=i) for i in range(count)]
    del base
    adapter_file_mb = statistics.mean((a / "adapter_model.safetensors").stat().st_size for a in adapters) / 2**20

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "workers.engine",
        "--port",
        str(port),
        "--adapter-memory-mb",
        "100000",
        "--log-level",
        "warning",
        "--dtype",
        args.dtype,
    ]
    engine = subprocess.Popen([*command, *base_flags], cwd=REPO)
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if engine.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the engine did not start")
            time.sleep(0.5)
        asyncio.run(run_clients(url, [[("base", "Hi")]], 4, concurrent=False))  # warm-up
        rss_base = rss_mb(engine.pid)

        loads = []
        for i, folder in enumerate(adapters):
            start = time.perf_counter()
            httpx.post(
                f"{url}/v1/load_lora_adapter", json={"lora_name": f"ft-{i}", "lora_path": str(folder)}, timeout=600
            ).raise_for_status()
            loads.append(time.perf_counter() - start)
        rss_loaded = rss_mb(engine.pid)

        plan = [
            [
                (f"ft-{(c + r) % args.adapters}", QUESTIONS[(c + r) % len(QUESTIONS)])
                for r in range(args.requests_per_client)
            ]
            for c in range(args.clients)
        ]
        same = [[("ft-0", question) for _, question in client] for client in plan]
        print(
            f"model={spec.name} clients={args.clients} adapters={args.adapters} max_tokens={args.max_tokens} "
            f"dtype={args.dtype} torch_threads={torch.get_num_threads()}"
        )
        sequential = summary("one at a time", *asyncio.run(run_clients(url, plan, args.max_tokens, concurrent=False)))
        mixed = summary(
            f"{args.clients} concurrent, {args.adapters} adapters",
            *asyncio.run(run_clients(url, plan, args.max_tokens, concurrent=True)),
        )
        single = summary(
            f"{args.clients} concurrent, 1 adapter",
            *asyncio.run(run_clients(url, same, args.max_tokens, concurrent=True)),
        )
    finally:
        engine.terminate()
        engine.wait(timeout=60)

    n = len(adapters)
    results = {
        "model": spec.name,
        "throughput": {
            "sequential": sequential,
            "concurrent_mixed_adapters": mixed,
            "concurrent_one_adapter": single,
            "speedup_mixed": round(mixed["tokens_per_s"] / sequential["tokens_per_s"], 2),
            "speedup_one_adapter": round(single["tokens_per_s"] / sequential["tokens_per_s"], 2),
        },
        "memory_mb": {
            "engine_rss_base_only": round(rss_base),
            f"engine_rss_{n}_adapters": round(rss_loaded),
            "adapter_file_each": round(adapter_file_mb, 1),
            f"base_plus_{n}_adapter_files": round(rss_base + n * adapter_file_mb),
            f"{n}_merged_models_weights": round(n * base_param_bytes / 2**20),
        },
        "cold_adapter_load_s": {"p50": round(percentile(loads, 0.5), 3), "p95": round(percentile(loads, 0.95), 3)},
    }
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
