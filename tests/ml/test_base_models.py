"""Base model specs, the de-quantised cache, and the local / hub routes."""

import os
import shutil
from pathlib import Path

import pytest

from workers.ml import base_models
from workers.ml.base_models import (
    EMBEDDED_DEFAULT,
    BaseModelSpec,
    _build_atomically,
    get_spec,
    load_model,
    load_tokenizer,
)
from workers.ml.errors import TrainingError


def test_tokenizer_is_loaded_once_per_process(tokenizer):
    assert load_tokenizer() is tokenizer is load_tokenizer(EMBEDDED_DEFAULT)
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token_id is not None
    assert "<|im_start|>" in tokenizer.chat_template


def test_embedded_tokenizer_is_cached_as_a_plain_folder(tokenizer):
    folders = list(base_models.model_cache_root().glob(f"{EMBEDDED_DEFAULT.name}-*/tokenizer"))
    assert folders and (folders[0] / "tokenizer.json").is_file()


def test_tiny_model_loads_through_the_local_route_in_fp32_on_cpu(tiny_spec, tokenizer):
    import torch

    model = load_model(tiny_spec, "cpu")
    assert model.dtype == torch.float32 and model.config.num_hidden_layers == 2
    assert model.config.vocab_size == len(tokenizer)
    assert load_tokenizer(tiny_spec).chat_template == tokenizer.chat_template


def test_hub_ids_load_from_the_local_cache_without_network(tiny_spec, tmp_path, monkeypatch):
    # The Hugging Face cache layout, as `huggingface-cli download` leaves it.
    revision = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--tunery--tiny"
    shutil.copytree(tiny_spec.path, repo / "snapshots" / revision)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))

    cached = BaseModelSpec("Tiny", "hub", "tunery/tiny", None, 2048)
    assert load_model(cached, "cpu").config.num_hidden_layers == 2
    assert load_tokenizer(cached).eos_token == "<|im_end|>"

    missing = BaseModelSpec("Some/Model", "hub", "some-org/not-cached", None, 2048)
    with pytest.raises(TrainingError) as error:
        load_model(missing, "cpu")
    assert error.value.code == "model_not_available" and "downloaded" in error.value.message


def test_a_missing_local_folder_is_a_plain_error(tmp_path):
    spec = BaseModelSpec("Mine", "local", str(tmp_path / "gone"), None, 2048)
    with pytest.raises(TrainingError) as error:
        load_tokenizer(spec)
    assert error.value.param == "model" and "does not exist" in error.value.message


def test_unknown_catalogue_name_lists_the_available_ones():
    assert get_spec("SmolLM2-135M-Instruct") is EMBEDDED_DEFAULT
    with pytest.raises(TrainingError) as error:
        get_spec("gpt-5")
    assert "SmolLM2-135M-Instruct" in error.value.message


def test_spec_round_trips_through_a_dict():
    assert BaseModelSpec.from_dict(EMBEDDED_DEFAULT.to_dict()) == EMBEDDED_DEFAULT


def test_cache_build_is_atomic_and_the_race_loser_keeps_the_winner(tmp_path):
    target = tmp_path / "model"

    def loser(folder: Path) -> None:
        (folder / "weights").write_text("loser")
        # Another process finishes first while this one is still writing.
        target.mkdir()
        (target / "weights").write_text("winner")

    assert _build_atomically(target, loser) == target
    assert (target / "weights").read_text() == "winner"
    assert os.listdir(tmp_path) == ["model"]  # no temp folder left behind

    def must_not_run(folder: Path) -> None:
        raise AssertionError("a complete cache entry is reused")

    _build_atomically(target, must_not_run)


def test_a_failed_build_leaves_nothing(tmp_path):
    def broken(folder: Path) -> None:
        (folder / "half").write_text("x")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        _build_atomically(tmp_path / "model", broken)
    assert os.listdir(tmp_path) == []
