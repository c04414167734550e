import json

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import signed_in
from tests.datasets import chat_jsonl, csv_table
from tests.files.helpers import upload_and_inspect


def test_dataset_page_shows_the_analysis_and_chart_data(client, api_a, owner_a):
    file = upload_and_inspect(api_a, "train.jsonl", chat_jsonl(12))
    page = signed_in(client, owner_a).get(f"/datasets/{file.public_id}").content.decode()
    assert '12</span><span class="label">examples' in page
    assert 'id="histogram-data"' in page and 'id="labels-data"' in page
    assert "Make a new version" in page


def test_dataset_page_lists_errors_by_line(client, api_a, owner_a):
    bad = chat_jsonl(12) + b'{"messages": []}\n'
    file = upload_and_inspect(api_a, "train.jsonl", bad)
    page = signed_in(client, owner_a).get(f"/datasets/{file.public_id}").content.decode()
    assert "<td>13</td>" in page and "error" in page


def test_table_page_offers_a_mapping_with_the_suggested_columns(client, api_a, owner_a):
    file = upload_and_inspect(api_a, "faq.csv", csv_table(12))
    page = signed_in(client, owner_a).get(f"/datasets/{file.public_id}").content.decode()
    assert 'id="mapping-form"' in page and '<option value="question" selected>' in page


def test_same_column_twice_is_an_inline_error(client, api_a, owner_a):
    file = upload_and_inspect(api_a, "faq.csv", csv_table(12))
    response = signed_in(client, owner_a).post(
        f"/datasets/{file.public_id}/convert", {"user": "question", "assistant": "question"}
    )
    assert response.status_code == 400 and "Pick a different column" in response.content.decode()


def test_web_upload_answers_json_for_the_progress_bar(client, owner_a):
    signed_in(client, owner_a)
    ok = client.post("/datasets/upload", {"file": SimpleUploadedFile("t.jsonl", chat_jsonl(12))})
    assert ok.status_code == 200 and ok.json()["url"].startswith("/datasets/file-")
    bad = client.post("/datasets/upload", {"file": SimpleUploadedFile("t.pdf", b"%PDF")})
    assert bad.status_code == 400 and "Unsupported file type" in json.loads(bad.content)["error"]


def test_list_page_shows_files_and_storage(client, api_a, owner_a):
    upload_and_inspect(api_a, "train.jsonl", chat_jsonl(12))
    page = signed_in(client, owner_a).get("/datasets").content.decode()
    assert "train.jsonl" in page and "stored" in page


def test_pending_page_polls_and_refreshes_when_ready(client, api_a, owner_a):
    file = upload_and_inspect(api_a, "train.jsonl", chat_jsonl(12))
    response = signed_in(client, owner_a).get(f"/datasets/{file.public_id}", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Refresh"] == "true"


def test_web_upload_over_the_limit_is_refused_with_csrf_enforced(owner_a, settings):
    from django.test import Client

    settings.TUNERY_MAX_UPLOAD_BYTES = 1000
    client = signed_in(Client(enforce_csrf_checks=True), owner_a)
    client.get("/datasets")  # sets the CSRF cookie, as for a browser
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/datasets/upload", {"file": SimpleUploadedFile("t.jsonl", chat_jsonl(40))}, HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 413 and "upload limit" in response.json()["error"]
