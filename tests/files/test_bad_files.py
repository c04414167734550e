"""A corpus of bad files: each gets the right error at the right line — 4xx for request
problems, status `error` with details for content problems; never a 500, nothing half-stored."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from tests.datasets import chat_rows
from tests.files.helpers import upload, upload_and_inspect
from tunery.files.models import File


def jsonl(rows) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


def with_bad_line(bad, at: int = 4) -> bytes:
    rows = chat_rows(12)
    rows.insert(at - 1, bad)
    return jsonl(rows)


USER = {"role": "user", "content": "hi"}
ASSISTANT = {"role": "assistant", "content": "hello"}

CONTENT_PROBLEMS = {
    "invalid_json": with_bad_line("{not json"),
    "missing_messages": with_bad_line({"conversation": [USER, ASSISTANT]}),
    "message_missing_key": with_bad_line({"messages": [{"content": "hi"}, ASSISTANT]}),
    "unrecognized_key": with_bad_line({"messages": [USER, {**ASSISTANT, "mood": "happy"}]}),
    "unknown_role": with_bad_line({"messages": [{"role": "robot", "content": "hi"}, ASSISTANT]}),
    "content_not_string": with_bad_line({"messages": [USER, {"role": "assistant", "content": 42}]}),
    "no_assistant_message": with_bad_line({"messages": [USER]}),
    "empty_content": with_bad_line({"messages": [USER, {"role": "assistant", "content": ""}]}),
    "invalid_utf8": with_bad_line("PLACEHOLDER").replace(b"PLACEHOLDER", b'{"messages": "\xff\xfe"}'),
}


@pytest.mark.parametrize("code", sorted(CONTENT_PROBLEMS))
def test_each_content_problem_is_reported_at_its_line(api_a, code):
    file = upload_and_inspect(api_a, "train.jsonl", CONTENT_PROBLEMS[code])
    assert file.status == "error"
    assert file.report["error_counts"] == {code: 1}
    assert file.report["errors"][0]["line"] == 4
    assert "line 4" in file.status_details
    analysis = api_a.get(f"/v1/files/{file.public_id}/analysis").json()
    assert analysis["report"]["errors"][0]["code"] == code


def test_an_example_over_the_token_limit(api_a):
    long = {"messages": [{"role": "user", "content": "word " * 9000}, ASSISTANT]}
    file = upload_and_inspect(api_a, "train.jsonl", with_bad_line(long, at=2))
    assert (
        file.status == "error"
        and file.report["errors"][0] | {"code": "too_many_tokens", "line": 2} == file.report["errors"][0]
    )


@pytest.mark.parametrize(
    "name, content, code",
    [
        ("empty.jsonl", b"", "empty_file"),
        ("truncated.jsonl", jsonl(chat_rows(12))[:-40], "invalid_json"),
        ("binary.jsonl", bytes(range(256)) * 8, "binary_file"),
        ("few.jsonl", jsonl(chat_rows(3)), "too_few_examples"),
    ],
)
def test_file_level_problems(api_a, name, content, code):
    file = upload_and_inspect(api_a, name, content)
    assert file.status == "error" and code in file.report["error_counts"], file.report


def test_one_giant_line(api_a):
    giant = b'{"messages": [{"role": "user", "content": "' + b"x" * (9 * 1024 * 1024) + b'"}]}\n'
    file = upload_and_inspect(api_a, "giant.jsonl", giant + jsonl(chat_rows(12)))
    assert (
        file.status == "error"
        and file.report["errors"][0]["code"] == "line_too_long"
        and file.report["errors"][0]["line"] == 1
    )


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * (300 * 1024 * 1024) + b">")
    return buffer.getvalue()


def test_an_xlsx_zip_bomb_is_refused_without_inflating_it(api_a):
    bomb = _zip_bomb()
    assert len(bomb) < 1024 * 1024
    file = upload_and_inspect(api_a, "sheet.xlsx", bomb)
    details = file.status_details.lower()
    assert file.status == "error" and ("zip" in details or "large" in details), details


@pytest.mark.parametrize(
    "name, content", [("data.xlsx", b"question,answer\nhi,hello\n"), ("data.csv", bytes(range(256)) * 4)]
)
def test_a_wrong_extension_is_an_error_with_details(api_a, name, content):
    file = upload_and_inspect(api_a, name, content)
    assert file.status == "error" and file.status_details


@pytest.mark.parametrize(
    "name, purpose, param",
    [("notes.pdf", "fine-tune", "file"), ("train.jsonl", "assistants", "purpose"), ("train", "fine-tune", "file")],
)
def test_request_problems_are_400_and_store_nothing(api_a, name, purpose, param):
    response = upload(api_a, name, jsonl(chat_rows(12)), purpose=purpose)
    assert response.status_code == 400 and response.json()["error"]["param"] == param
    assert not File.objects.exists()


def test_missing_file_part_is_400(api_a):
    response = api_a.post("/v1/files", {"purpose": "fine-tune"}, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["param"] == "file"


@override_settings(TUNERY_MAX_UPLOAD_BYTES=10_000)
def test_an_oversized_upload_is_413_and_nothing_is_stored(api_a, org_a):
    response = upload(api_a, "big.jsonl", jsonl(chat_rows(400)))
    assert response.status_code == 413 and response.json()["error"]["code"] == "file_too_large"
    assert not File.objects.exists()
    assert not (Path(settings.MEDIA_ROOT) / "files" / org_a.public_id).exists()


def test_filenames_are_sanitized(api_a):
    response = upload(api_a, "../../etc/pass wd;rm -rf.jsonl", jsonl(chat_rows(12)))
    name = response.json()["filename"]
    assert "/" not in name and ".." not in name and ";" not in name and name.endswith(".jsonl")
