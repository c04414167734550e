"""Creating a job: every bad field is refused with its name, before anything is queued."""

import pytest

from tests.datasets import chat_jsonl
from tests.files.helpers import upload_and_inspect
from tunery.jobs.models import FineTuningJob


def create(client, **fields):
    return client.post("/v1/fine_tuning/jobs", fields, format="json")


def test_a_valid_request_creates_a_job_validating_its_files(api_a, tiny_base, training_file_a, org_a):
    response = create(
        api_a,
        model="tiny-llama",
        training_file=training_file_a.public_id,
        suffix="topics",
        seed=7,
        metadata={"team": "nlp"},
        hyperparameters={"n_epochs": 2, "batch_size": "auto"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "fine_tuning.job" and body["status"] == "validating_files"
    assert body["hyperparameters"] == {"n_epochs": 2, "batch_size": "auto", "learning_rate_multiplier": "auto"}
    assert body["organization_id"] == org_a.public_id and body["user_provided_suffix"] == "topics"
    assert body["id"].startswith("ftjob-") and body["fine_tuned_model"] is None
    events = api_a.get(f"/v1/fine_tuning/jobs/{body['id']}/events").json()["data"]
    assert events[0]["message"].startswith("Created fine-tuning job")


def test_method_supervised_hyperparameters_are_read(api_a, tiny_base, training_file_a):
    response = create(
        api_a,
        model="tiny-llama",
        training_file=training_file_a.public_id,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
    )
    assert response.json()["hyperparameters"]["n_epochs"] == 3


@pytest.mark.parametrize(
    "fields, status, param",
    [
        ({"model": "gpt-4o-mini"}, 404, "model"),
        ({"model": "ft:tiny-llama:other:x:abcdefgh"}, 404, "model"),
        ({"training_file": "file-nope"}, 404, "training_file"),
        ({"hyperparameters": {"n_epochs": 0}}, 400, "hyperparameters.n_epochs"),
        ({"hyperparameters": {"n_epochs": "many"}}, 400, "hyperparameters.n_epochs"),
        ({"hyperparameters": {"warp_speed": 9}}, 400, "hyperparameters.warp_speed"),
        ({"hyperparameters": {"batch_size": 500}}, 400, "hyperparameters.batch_size"),
        ({"suffix": "Not OK!"}, 400, "suffix"),
        ({"seed": -1}, 400, "seed"),
        ({"metadata": {"k": 1}}, 400, "metadata.k"),
        ({"method": {"type": "dpo"}}, 400, "method.type"),
    ],
)
def test_bad_fields_are_named(api_a, tiny_base, training_file_a, fields, status, param):
    body = {"model": "tiny-llama", "training_file": training_file_a.public_id, **fields}
    response = create(api_a, **body)
    assert response.status_code == status, response.json()
    assert response.json()["error"]["param"] == param
    assert not FineTuningJob.objects.exists()


def test_a_file_with_errors_cannot_be_trained_on(api_a, tiny_base):
    bad = upload_and_inspect(api_a, "bad.jsonl", chat_jsonl(12) + b"{oops\n")
    response = create(api_a, model="tiny-llama", training_file=bad.public_id)
    assert response.status_code == 400 and "not a valid training file" in response.json()["error"]["message"]


def test_another_organizations_file_is_not_found(api_a, api_b, tiny_base):
    theirs = upload_and_inspect(api_b, "train.jsonl", chat_jsonl(12))
    response = create(api_a, model="tiny-llama", training_file=theirs.public_id)
    assert response.status_code == 404 and response.json()["error"]["code"] == "file_not_found"


def test_read_only_key_cannot_create_jobs(org_a, tiny_base, training_file_a):
    from tests.conftest import key_client

    response = create(key_client(org_a, scopes=["read"]), model="tiny-llama", training_file=training_file_a.public_id)
    assert response.status_code == 403
