"""Creating an evaluation: what is checked before anything runs, what it is refused for, and
where its task goes."""

from decimal import Decimal

import pytest

from tests.evaluations.conftest import create
from tests.files.helpers import upload
from tunery.billing import ledger
from tunery.billing.models import EntryKind, LedgerEntry, Price
from tunery.evaluations.models import EvaluationRun
from tunery.jobs.models import BaseModel


@pytest.fixture
def evaluation_a(api_a, tiny_base, test_file_a):
    return create(api_a, test_file_a, ["tiny-llama"])


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.json()
    return response.json()["error"]


def test_its_task_goes_to_the_base_models_gpu_queue(
    api_a, tiny_base, test_file_a, monkeypatch, django_capture_on_commit_callbacks
):
    BaseModel.objects.filter(pk=tiny_base.pk).update(gpu_queue="gpu-a100")
    sent = []
    monkeypatch.setattr(
        "tunery.evaluations.tasks.run_evaluation.apply_async", lambda args, **options: sent.append((args, options))
    )
    with django_capture_on_commit_callbacks(execute=True):
        body = create(api_a, test_file_a, ["tiny-llama"]).json()
    run = EvaluationRun.objects.get(public_id=body["id"])
    assert sent == [((run.pk, run.organization_id), {"queue": "gpu-a100"})]


def test_the_estimate_is_held_from_the_balance(api_a, org_a, evaluation_a):
    body = evaluation_a.json()
    hold = LedgerEntry.objects.get(organization=org_a, kind=EntryKind.HOLD)
    assert -hold.amount == Decimal(body["estimated_cost"]) > 0 and body["id"] in hold.description
    assert EvaluationRun.objects.get(public_id=body["id"]).held_entry == hold


def test_models_of_different_base_models_are_refused_naming_the_param(api_a, tiny_base, test_file_a):
    BaseModel.objects.create(name="tiny-llama-2", source="local", path=tiny_base.path, max_seq_len=256)
    error = _error(create(api_a, test_file_a, ["tiny-llama", "tiny-llama-2"]), 400)
    assert error["param"] == "models" and error["code"] == "mixed_base_models"
    assert "tiny-llama, tiny-llama-2" in error["message"]
    assert not EvaluationRun.objects.exists()


def test_an_unknown_model_is_404_like_the_gateway(api_a, tiny_base, test_file_a):
    error = _error(create(api_a, test_file_a, ["tiny-llama", "ft:tiny-llama:org-a:demo:nothere"]), 404)
    assert error == {
        "message": "The model `ft:tiny-llama:org-a:demo:nothere` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": "models[1]",
        "code": "model_not_found",
    }


@pytest.mark.parametrize(
    "body, param",
    [
        ({"models": []}, "models"),
        ({"models": "tiny-llama"}, "models"),
        ({"models": ["tiny-llama", "tiny-llama"]}, "models[1]"),
        ({"models": [f"m{i}" for i in range(9)]}, "models"),
        ({"models": ["tiny-llama"], "max_examples": 0}, "max_examples"),
        ({"models": ["tiny-llama"], "max_examples": "ten"}, "max_examples"),
        ({"models": ["tiny-llama"], "test_file": None}, "test_file"),
    ],
)
def test_bad_values_are_400_naming_the_field(api_a, tiny_base, test_file_a, body, param):
    response = api_a.post("/v1/evaluations", {"test_file": test_file_a.public_id, **body}, format="json")
    assert _error(response, 400)["param"] == param


def test_the_test_file_must_be_processed(api_a, tiny_base):
    pending = upload(api_a, "later.jsonl", b'{"prompt": "a", "completion": "b"}\n').json()["id"]
    response = api_a.post("/v1/evaluations", {"test_file": pending, "models": ["tiny-llama"]}, format="json")
    error = _error(response, 400)
    assert error["code"] == "file_not_ready" and error["param"] == "test_file"
    error = _error(
        api_a.post("/v1/evaluations", {"test_file": "file-nope", "models": ["tiny-llama"]}, format="json"), 404
    )
    assert error["code"] == "file_not_found"


def test_it_is_refused_when_the_balance_cannot_cover_the_estimate(api_a, org_a, tiny_base, test_file_a):
    price = Price.objects.filter(base_model=tiny_base).first()
    Price.objects.create(
        base_model=tiny_base,
        training_per_million=price.training_per_million,
        input_per_million=Decimal("100000"),
        output_per_million=Decimal("100000"),
    )
    error = _error(create(api_a, test_file_a, ["tiny-llama"]), 402)
    assert error["code"] == "insufficient_balance" and error["param"] == "max_examples"
    assert error["message"].startswith("This evaluation is estimated at $")
    assert not EvaluationRun.objects.exists() and ledger.held(org_a) == 0


def test_a_viewer_key_cannot_start_one(org_a, tiny_base, test_file_a):
    from tests.conftest import key_client

    viewer = key_client(org_a, scopes=["read"])
    assert create(viewer, test_file_a, ["tiny-llama"]).status_code == 403
    assert viewer.get("/v1/evaluations").status_code == 200


def test_the_list_pages_with_a_cursor(api_a, tiny_base, test_file_a):
    ids = [create(api_a, test_file_a, ["tiny-llama"], max_examples=2).json()["id"] for _ in range(3)]
    first = api_a.get("/v1/evaluations?limit=2").json()
    assert [e["id"] for e in first["data"]] == ids[::-1][:2] and first["has_more"]
    rest = api_a.get(f"/v1/evaluations?limit=2&after={first['last_id']}").json()
    assert [e["id"] for e in rest["data"]] == [ids[0]] and not rest["has_more"]


def test_the_endpoints_are_in_the_openapi_schema():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {
        op["operationId"] for path, item in schema["paths"].items() if "evaluations" in path for op in item.values()
    }
    assert operations == {"list_evaluations", "create_evaluation", "retrieve_evaluation", "cancel_evaluation"}
    assert "max_examples" in str(schema["components"]["schemas"]["CreateEvaluationRequest"])
