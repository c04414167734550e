"""Conversion from tables, and new immutable versions: redact, deduplicate, shuffle, split."""

import json

from tests.datasets import chat_jsonl, chat_rows, csv_table
from tests.files.helpers import upload_and_inspect
from tunery.files.derivation import derive
from tunery.files.models import File


def test_csv_is_previewed_converted_and_validated(api_a, django_capture_on_commit_callbacks, monkeypatch):
    table = upload_and_inspect(api_a, "faq.csv", csv_table(12))
    assert table.status == "uploaded" and table.report["preview"]["columns"] == ["question", "answer"]
    assert table.report["preview"]["suggested_mapping"]["user"] == "question"

    queued = []
    monkeypatch.setattr("tunery.files.tasks.derive_files.delay", lambda *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        response = api_a.post(
            f"/v1/files/{table.public_id}/convert",
            {"mapping": {"user": "question", "assistant": "answer"}, "system_prompt": "Classify."},
            format="json",
        )
    assert (
        response.status_code == 202
        and response.json()["status"] == "uploaded"
        and response.json()["parent_id"] == table.public_id
    )
    derive(*queued[0])

    converted = File.objects.get(public_id=response.json()["id"])
    assert converted.status == "processed", converted.status_details
    lines = [json.loads(line) for line in converted.content.open("rb").read().splitlines()]
    assert lines[0]["messages"][0] == {"role": "system", "content": "Classify."}
    assert lines[0]["messages"][2] == {"role": "assistant", "content": "zorp"}
    assert converted.report["labels"]["n_classes"] == 3


def test_a_mapping_to_a_missing_column_names_it(api_a):
    table = upload_and_inspect(api_a, "faq.csv", csv_table(12))
    response = api_a.post(
        f"/v1/files/{table.public_id}/convert", {"mapping": {"user": "question", "assistant": "reply"}}, format="json"
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "mapping.assistant"
    assert "question, answer" in response.json()["error"]["message"]


def test_dedupe_shuffle_and_stratified_split_make_new_files(api_a, django_capture_on_commit_callbacks, monkeypatch):
    rows = chat_rows(30) + chat_rows(30)[:6]  # six duplicates
    source = upload_and_inspect(api_a, "train.jsonl", "".join(json.dumps(r) + "\n" for r in rows).encode())
    assert source.report["stats"]["duplicates"] == 6
    original = source.content.open("rb").read()

    queued = []
    monkeypatch.setattr("tunery.files.tasks.derive_files.delay", lambda *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        response = api_a.post(
            f"/v1/files/{source.public_id}/transform",
            {"deduplicate": True, "shuffle_seed": 7, "split": {"validation_fraction": 0.2, "seed": 7}},
            format="json",
        )
    assert response.status_code == 202
    derive(*queued[0])
    train, validation = (File.objects.get(public_id=f["id"]) for f in response.json()["data"])
    assert (train.status, validation.status) == ("processed", "processed")
    assert train.n_examples + validation.n_examples == 30 and validation.n_examples == 6
    assert set(validation.report["labels"]["classes"].values()) == {2}  # stratified: 2 of each class
    source.refresh_from_db()
    assert source.content.open("rb").read() == original  # the original is kept as it was


def test_transform_needs_a_processed_file(api_a):
    table = upload_and_inspect(api_a, "faq.csv", csv_table(12))
    response = api_a.post(f"/v1/files/{table.public_id}/transform", {"deduplicate": True}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "file_not_ready"


def test_transform_without_an_operation_is_400(api_a):
    source = upload_and_inspect(api_a, "train.jsonl", chat_jsonl(12))
    response = api_a.post(f"/v1/files/{source.public_id}/transform", {}, format="json")
    assert response.status_code == 400 and response.json()["error"]["param"] == "operation"


def test_storage_usage(api_a):
    upload_and_inspect(api_a, "train.jsonl", chat_jsonl(12))
    usage = api_a.get("/v1/organization/storage").json()
    assert usage["bytes"] == len(chat_jsonl(12)) and usage["file_limit_bytes"] == 512 * 1024 * 1024
