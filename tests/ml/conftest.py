"""Fixtures for the Django-free ML core: a tiny random Llama with the embedded tokenizer and
small chat datasets, so the real loading/training code runs in seconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workers.ml.base_models import BaseModelSpec, load_tokenizer, make_tiny_random_model
from workers.ml.trainer import TrainConfig, train

ANSWERS = ["yes", "no"]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def chat(user: str, answer: str) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


@pytest.fixture(scope="session")
def tokenizer():
    return load_tokenizer()


@pytest.fixture(scope="session")
def tiny_spec(tmp_path_factory) -> BaseModelSpec:
    return make_tiny_random_model(tmp_path_factory.mktemp("tiny-model"))


def write_yes_no_data(folder: Path) -> tuple[Path, Path]:
    """16 training and 6 validation chats answered "yes" or "no"."""
    questions = ["Is the sky blue", "Is fire cold", "Is water wet", "Is ice hot", "Do fish swim", "Do rocks fly"]
    rows = [chat(f"{q}? ({i})", ANSWERS[n % 2]) for i in range(3) for n, q in enumerate(questions)]
    return write_jsonl(folder / "train.jsonl", rows[:16]), write_jsonl(folder / "validation.jsonl", rows[12:])


@pytest.fixture
def tiny_data(tmp_path) -> tuple[Path, Path]:
    return write_yes_no_data(tmp_path)


@pytest.fixture(scope="session")
def tiny_adapter(tiny_spec, tmp_path_factory) -> Path:
    """A trained adapter for the tiny model (two fast epochs)."""
    folder = tmp_path_factory.mktemp("tiny-adapter")
    train_file, validation_file = write_yes_no_data(folder)
    hyperparameters = {"n_epochs": 2, "batch_size": 4, "learning_rate_multiplier": 20}
    result = train(TrainConfig(tiny_spec, train_file, folder / "job", validation_file, hyperparameters, device="cpu"))
    return result.adapter_dir


@pytest.fixture(autouse=True)
def one_thread_for_tiny_models(request):
    """The tiny model's matrices are too small to gain from a second thread, and a busy shared
    CI machine makes OpenMP threads wait on each other; the slow test keeps all threads."""
    import torch

    if request.node.get_closest_marker("slow"):
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
