"""Another organization's member sees none of it: its runs, its files and its models answer
404 on every evaluation endpoint and page, exactly like missing ones."""

from tests.conftest import signed_in
from tests.datasets import chat_jsonl
from tests.evaluations.conftest import create
from tests.files.helpers import upload_and_inspect


def test_another_organizations_run_is_404_in_the_api(api_b, finished_run):
    run_id = finished_run.public_id
    for response in (api_b.get(f"/v1/evaluations/{run_id}"), api_b.post(f"/v1/evaluations/{run_id}/cancel")):
        assert response.status_code == 404, response.json()
    assert api_b.get("/v1/evaluations").json()["data"] == []


def test_another_organizations_file_and_models_are_404_like_missing_ones(api_b, finished_run, three_models):
    test_file = finished_run.test_file
    response = create(api_b, test_file, ["tiny-llama"])
    assert response.status_code == 404 and response.json()["error"]["code"] == "file_not_found"

    own_file = upload_and_inspect(api_b, "mine.jsonl", chat_jsonl(12))
    for name in three_models[1:]:
        error = create(api_b, own_file, ["tiny-llama", name]).json()["error"]
        assert error["code"] == "model_not_found" and error["param"] == "models[1]"
        missing = create(api_b, own_file, ["tiny-llama", name + "x"]).json()["error"]
        assert error["message"] == missing["message"].replace(name + "x", name)


def test_another_organizations_run_is_404_on_the_pages(client, outsider_b, finished_run):
    signed_in(client, outsider_b)
    assert client.get(f"/evaluations/{finished_run.public_id}").status_code == 404
    assert client.post(f"/evaluations/{finished_run.public_id}/cancel").status_code == 404
    page = client.get("/evaluations").content.decode()
    assert finished_run.public_id not in page and finished_run.test_file.public_id not in page
    assert "ft:tiny-llama" not in page  # org A's models are not offered


def test_another_organizations_file_and_models_are_refused_by_the_form(client, outsider_b, finished_run, three_models):
    signed_in(client, outsider_b)
    response = client.post(
        "/evaluations/new", {"test_file": finished_run.test_file.public_id, "models": three_models[1:]}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
