"""Acceptance: the official `openai` client works unchanged against /v1/files."""

import openai
import pytest

from tests.conftest import key_client, wait_for
from tests.datasets import chat_jsonl


@pytest.fixture
def openai_a(live_server, org_a):
    return openai.OpenAI(base_url=live_server.url + "/v1", api_key=key_client(org_a).secret, max_retries=0)


def test_create_retrieve_list_content_delete(openai_a, celery_worker, tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_bytes(chat_jsonl(12))
    created = openai_a.files.create(file=path.open("rb"), purpose="fine-tune")
    assert created.filename == "train.jsonl" and created.bytes == path.stat().st_size and created.purpose == "fine-tune"

    processed = wait_for(lambda: (f := openai_a.files.retrieve(created.id)).status != "uploaded" and f)
    assert processed.status == "processed", processed.status_details
    assert "12 examples" in processed.status_details

    for n in range(2):
        openai_a.files.create(file=(f"more{n}.jsonl", chat_jsonl(10)), purpose="fine-tune")
    first = openai_a.files.list(limit=2)
    assert len(first.data) == 2 and first.has_more
    assert len([f.id for f in openai_a.files.list(limit=2)]) == 3  # auto-pagination follows `after`

    assert openai_a.files.content(created.id).content == path.read_bytes()

    deleted = openai_a.files.delete(created.id)
    assert deleted.deleted and deleted.id == created.id
    with pytest.raises(openai.NotFoundError):
        openai_a.files.retrieve(created.id)


def test_client_errors_map_to_openai_exceptions(openai_a, live_server, org_b):
    with pytest.raises(openai.BadRequestError) as bad:
        openai_a.files.create(file=("notes.pdf", b"%PDF-1.4"), purpose="fine-tune")
    assert bad.value.body["param"] == "file" and "Unsupported file type" in bad.value.body["message"]
    with pytest.raises(openai.BadRequestError):
        openai_a.files.create(file=("a.jsonl", chat_jsonl()), purpose="assistants")
    intruder = openai.OpenAI(base_url=live_server.url + "/v1", api_key=key_client(org_b).secret, max_retries=0)
    mine = openai_a.files.create(file=("a.jsonl", chat_jsonl()), purpose="fine-tune")
    with pytest.raises(openai.NotFoundError):
        intruder.files.retrieve(mine.id)
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=live_server.url + "/v1", api_key="tun_wrong", max_retries=0).files.list()
