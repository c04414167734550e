"""The create/estimate body's shape: a wrong JSON type or an unknown field is a 400 naming the
field (these were 500s, or 404s for `model: 123`, or silently ignored), and a LoRA layer the
base model does not have is refused before the job exists (issue 18)."""

import pytest

from tunery.jobs.serializers import Hyperparameters
from workers.ml.hyperparameters import FIELDS


@pytest.fixture
def body(tiny_base, training_file_a):
    return {"model": "tiny-llama", "training_file": training_file_a.public_id}


@pytest.mark.parametrize("path", ["/v1/fine_tuning/jobs/estimate", "/v1/fine_tuning/jobs"])
@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"suffix": 5}, "suffix"),
        ({"model": 123}, "model"),
        ({"method": "supervised"}, "method"),
        ({"method": {"type": "supervised", "supervised": "x"}}, "method.supervised"),
        ({"method": {"supervised": {"hyperparameters": []}}}, "method.supervised.hyperparameters"),
        ({"hyperparameters": {"lora_r": "8"}}, "hyperparameters.lora_r"),
        ({"metadata": {"team": 7}}, "metadata.team"),
        ({"n_epoch": 3}, "n_epoch"),
        ({"method": {"type": "supervised", "dpo": {}}}, "method.dpo"),
        ({"hyperparameters": {"lora_rank": 8}}, "hyperparameters.lora_rank"),
    ],
)
def test_wrong_types_and_unknown_fields_are_400s_naming_the_field(api_a, body, path, extra, param):
    response = api_a.post(path, {**body, **extra}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["param"] == param and error["message"].startswith(param)


def test_unknown_field_message_lists_the_known_ones(api_a, body):
    error = api_a.post("/v1/fine_tuning/jobs/estimate", {**body, "n_epoch": 3}, format="json").json()["error"]
    assert error["message"] == (
        "n_epoch: unknown parameter; known ones are model, training_file, validation_file, suffix, seed, metadata, "
        "hyperparameters, method."
    )


def test_auto_and_nested_hyperparameters_are_still_accepted(api_a, body):
    nested = {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2, "lora_r": "auto"}}}
    response = api_a.post("/v1/fine_tuning/jobs/estimate", {**body, "method": nested, "seed": None}, format="json")
    assert response.status_code == 200, response.content


def test_the_schema_serializer_knows_every_hyperparameter_the_resolver_knows():
    assert set(Hyperparameters().fields) == set(FIELDS)


@pytest.mark.parametrize("path", ["/v1/fine_tuning/jobs/estimate", "/v1/fine_tuning/jobs"])
def test_a_lora_layer_the_model_lacks_is_refused_up_front(api_a, body, path):
    hyperparameters = {"lora_target_modules": ["q_proj", "nonexistent_proj"]}
    response = api_a.post(path, {**body, "hyperparameters": hyperparameters}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "hyperparameters.lora_target_modules"
    assert "no layer named 'nonexistent_proj'" in error["message"] and "gate_proj" in error["message"]


def test_every_linear_layer_of_a_llama_block_may_be_chosen(api_a, body):
    hyperparameters = {"lora_target_modules": ["k_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]}
    response = api_a.post("/v1/fine_tuning/jobs/estimate", {**body, "hyperparameters": hyperparameters}, format="json")
    assert response.status_code == 200, response.content


def test_metadata_filter_takes_the_key_literally(api_a, body):
    job = api_a.post("/v1/fine_tuning/jobs", {**body, "metadata": {"team": "search"}}, format="json").json()

    def listed(params):
        return [j["id"] for j in api_a.get("/v1/fine_tuning/jobs", params).json()["data"]]

    assert listed({"metadata[team]": "search"}) == [job["id"]]
    assert listed({"metadata[team]": "sea"}) == []
    assert listed({"metadata[team__contains]": "sea"}) == []  # no lookup operator passes through
    assert listed({"metadata[team__startswith]": "s", "metadata[team]": "search"}) == []
