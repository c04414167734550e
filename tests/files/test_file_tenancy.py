"""Another organization's files are 404 everywhere, exactly like missing ones."""

import pytest

from tests.conftest import signed_in
from tests.datasets import chat_jsonl
from tests.files.helpers import upload_and_inspect
from tunery.files.models import File


@pytest.fixture
def file_a(api_a):
    return upload_and_inspect(api_a, "train.jsonl", chat_jsonl(12))


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/v1/files/{id}"),
        ("delete", "/v1/files/{id}"),
        ("get", "/v1/files/{id}/content"),
        ("get", "/v1/files/{id}/analysis"),
        ("post", "/v1/files/{id}/convert"),
        ("post", "/v1/files/{id}/transform"),
    ],
)
def test_api_routes_answer_404_to_another_organization(api_b, file_a, method, path):
    response = getattr(api_b, method)(path.format(id=file_a.public_id), {}, format="json")
    assert response.status_code == 404 and response.json()["error"]["type"] == "invalid_request_error"
    assert File.objects.filter(pk=file_a.pk).exists()


def test_list_shows_only_own_files(api_b, file_a):
    assert api_b.get("/v1/files").json()["data"] == []


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/datasets/{id}"),
        ("get", "/datasets/{id}/download"),
        ("post", "/datasets/{id}/convert"),
        ("post", "/datasets/{id}/transform"),
        ("post", "/datasets/{id}/delete"),
        ("get", "/datasets/wizard?file={id}"),
    ],
)
def test_web_pages_answer_404_to_another_organization(client, outsider_b, file_a, method, path):
    response = getattr(signed_in(client, outsider_b), method)(path.format(id=file_a.public_id))
    assert response.status_code == 404
    assert File.objects.filter(pk=file_a.pk).exists()


def test_viewer_cannot_upload_or_delete(client, viewer_a, file_a):
    signed_in(client, viewer_a)
    assert client.post(f"/datasets/{file_a.public_id}/delete").status_code == 403
    assert client.post("/datasets/upload").status_code == 403
    assert client.get(f"/datasets/{file_a.public_id}").status_code == 200
