"""Fixtures for the inference engine: the tiny random Llama, two adapters trained on it in
seconds (one with the base chat template, one with its own), and the engine served by uvicorn
on a free port in a thread, driven by the official ``openai`` client."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from tests.conftest import serve
from workers.engine.app import create_app
from workers.engine.config import EngineConfig, local_spec
from workers.engine.engine import Engine
from workers.ml.base_models import BaseModelSpec, make_tiny_random_model
from workers.ml.trainer import TrainConfig, train

# A template unlike the base model's ChatML, so a test can tell which one rendered a prompt.
PLAIN_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'assistant' %}Bot: {{ m['content'] }}<|im_end|>\n"
    "{% else %}{{ m['role'] | capitalize }}: {{ m['content'] }}\n{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}Bot:{% endif %}"
)
QUESTIONS = ["Is the sky blue", "Is fire cold", "Is water wet", "Is ice hot", "Do fish swim", "Do rocks fly"]


def _train_adapter(spec: BaseModelSpec, folder: Path, answer: str) -> Path:
    """An adapter that learned to answer ``answer`` to every question."""
    rows = [
        {"messages": [{"role": "user", "content": f"{q}? ({i})"}, {"role": "assistant", "content": answer}]}
        for i in range(2)
        for q in QUESTIONS
    ]
    data = folder / "train.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    hyperparameters = {"n_epochs": 3, "batch_size": 4, "learning_rate_multiplier": 20}
    return train(TrainConfig(spec, data, folder / "job", None, hyperparameters, device="cpu")).adapter_dir


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> BaseModelSpec:
    return make_tiny_random_model(tmp_path_factory.mktemp("engine-tiny-model"))


@pytest.fixture(scope="session")
def chatml_adapter(tiny_base, tmp_path_factory) -> Path:
    """Trained with the base tokenizer's ChatML template to answer "yes"."""
    return _train_adapter(tiny_base, tmp_path_factory.mktemp("adapter-yes"), "yes")


@pytest.fixture(scope="session")
def plain_adapter(tiny_base, tmp_path_factory) -> Path:
    """Trained with PLAIN_TEMPLATE (stored in its manifest) to answer "no"."""
    spec = BaseModelSpec.from_dict({**tiny_base.to_dict(), "chat_template": PLAIN_TEMPLATE})
    return _train_adapter(spec, tmp_path_factory.mktemp("adapter-no"), "no")


@contextmanager
def serving(engine: Engine) -> Iterator[str]:
    """Serve ``engine`` with uvicorn in a thread; yields the base URL (``.../v1``)."""
    with serve(create_app(engine)) as url:
        yield f"{url}/v1"


EngineFactory = Callable[..., Engine]


@pytest.fixture(scope="session")
def make_engine(tiny_base) -> EngineFactory:
    def make(**settings) -> Engine:
        spec = local_spec(tiny_base.path, tiny_base.max_seq_len, None)
        return Engine(EngineConfig(spec=spec, served_name="tiny", device="cpu", **settings))

    return make


@pytest.fixture(scope="session")
def served(make_engine, chatml_adapter, plain_adapter) -> Iterator[tuple[Engine, str]]:
    """One engine for the tests that leave it as they found it, with both adapters
    registered at start as "yes" and "no"."""
    engine = make_engine(preload=[("yes", str(chatml_adapter)), ("no", str(plain_adapter))])
    with serving(engine) as url:
        yield engine, url


@pytest.fixture(scope="session")
def engine(served) -> Engine:
    return served[0]


@pytest.fixture(scope="session")
def engine_url(served) -> str:
    return served[1]


@pytest.fixture(scope="session")
def client(engine_url) -> OpenAI:
    return OpenAI(base_url=engine_url, api_key="unused", max_retries=0, timeout=120)


@pytest.fixture(scope="session")
def http(engine_url) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=engine_url, timeout=120) as session:
        yield session
