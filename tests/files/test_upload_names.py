"""Odd file names are stored safely or refused with a message naming the problem, and the web
drop target answers its script in JSON whatever goes wrong (issue 18)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import signed_in
from tests.datasets import chat_jsonl
from tests.files.helpers import upload


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        (".jsonl", "upload.jsonl"),
        ("🙂.jsonl", "upload.jsonl"),
        ("über daten.jsonl", "über_daten.jsonl"),
        ("../../x.jsonl", "x.jsonl"),
    ],
)
def test_names_with_nothing_safe_in_the_stem_are_stored_as_upload(api_a, name, stored):
    response = upload(api_a, name, chat_jsonl(3))
    assert response.status_code == 200, response.content
    assert response.json()["filename"] == stored


@pytest.mark.parametrize("name", ["...", "data"])
def test_a_name_without_an_extension_is_refused_saying_so(api_a, name):
    response = upload(api_a, name, chat_jsonl(3))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "file" and "has no extension" in error["message"]


def test_an_unsupported_extension_is_refused_naming_it(api_a):
    error = upload(api_a, "data.exe", b"MZ").json()["error"]
    assert error["code"] == "unsupported_file_type" and "“.exe” (data.exe)" in error["message"]


def drop(client, name="train.jsonl"):
    return client.post("/datasets/upload", {"file": SimpleUploadedFile(name, chat_jsonl(3))})


def test_drop_target_answers_json_when_signed_out(db, client):
    response = drop(client)
    assert response.status_code == 401 and "sign in again" in response.json()["error"]


def test_drop_target_answers_json_to_a_viewer(client, viewer_a):
    response = drop(signed_in(client, viewer_a))
    assert response.status_code == 403 and "Viewers cannot" in response.json()["error"]


def test_drop_target_answers_json_when_the_csrf_token_is_stale(owner_a):
    response = drop(signed_in(Client(enforce_csrf_checks=True), owner_a))
    assert response.status_code == 403 and "reload it" in response.json()["error"]


def test_drop_target_answers_json_to_an_odd_name(client, owner_a):
    response = drop(signed_in(client, owner_a), name="...")
    assert response.status_code == 400 and "has no extension" in response.json()["error"]
