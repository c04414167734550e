import pytest

from tests.datasets import chat_jsonl
from tests.files.helpers import upload_and_inspect
from tunery.jobs.models import BaseModel


@pytest.fixture(scope="session")
def tiny_model_folder(tmp_path_factory):
    """A tiny random Llama with the embedded tokenizer: the real training code in seconds."""
    from workers.ml.base_models import make_tiny_random_model

    folder = tmp_path_factory.mktemp("tiny-llama")
    make_tiny_random_model(folder)
    return folder


@pytest.fixture
def tiny_base(db, tiny_model_folder):
    return BaseModel.objects.create(
        name="tiny-llama", source="local", path=str(tiny_model_folder), max_seq_len=256,
        lora_target_modules=["q_proj", "v_proj"],
    )


@pytest.fixture
def training_file_a(api_a):
    return upload_and_inspect(api_a, "train.jsonl", chat_jsonl(30))
