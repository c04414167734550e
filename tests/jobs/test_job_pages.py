"""The job pages and the model-facing API around a job trained here on the tiny model."""

import io
import zipfile

from tests.conftest import signed_in
from tunery.jobs import runner
from tunery.jobs.models import FineTuningJob

OTHER_ORG_ROUTES = [
    ("get", "/fine-tuning/{id}"),
    ("get", "/fine-tuning/{id}/metrics.json"),
    ("get", "/fine-tuning/{id}/adapter.zip"),
    ("post", "/fine-tuning/{id}/cancel"),
    ("post", "/fine-tuning/{id}/pause"),
    ("post", "/fine-tuning/{id}/resume"),
    ("get", "/fine-tuning/compare?job={id}"),
]


def test_job_pages_show_progress_events_checkpoints_evaluation_and_curves(
    client, owner_a, api_a, viewer_a, succeeded_job
):
    signed_in(client, owner_a)
    page = client.get(f"/fine-tuning/{succeeded_job.public_id}").content.decode()
    assert succeeded_job.fine_tuned_model in page
    assert 'id="loss-chart"' in page and 'id="job-progress"' in page and "width:100%" in page
    assert "Checkpoint saved at step" in page and 'id="checkpoints"' in page
    assert 'id="evaluation-table"' in page and "Perplexity" in page and 'id="samples"' in page

    series = client.get(f"/fine-tuning/{succeeded_job.public_id}/metrics.json").json()
    assert series["train"] and series["validation"] and series["status"] == "succeeded" and series["progress"] == 1.0
    assert [p["x"] for p in series["train"]] == sorted(p["x"] for p in series["train"])

    for response in (
        client.get(f"/fine-tuning/{succeeded_job.public_id}/adapter.zip"),
        api_a.get(f"/v1/fine_tuning/jobs/{succeeded_job.public_id}/adapter"),
    ):
        names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
        assert {"adapter_model.safetensors", "adapter_config.json", "tunery_adapter.json"} <= set(names)

    compare = client.get("/fine-tuning/compare", {"job": [succeeded_job.public_id]}).content.decode()
    assert 'id="compare-data"' in compare and succeeded_job.public_id in compare
    assert succeeded_job.fine_tuned_model in client.get("/fine-tuning").content.decode()

    signed_in(client, viewer_a)  # sees everything, changes nothing
    assert client.get(f"/fine-tuning/{succeeded_job.public_id}").status_code == 200
    assert client.get("/fine-tuning/new").status_code == 403
    assert client.post(f"/fine-tuning/{succeeded_job.public_id}/cancel").status_code == 403


def test_another_organization_gets_404_on_every_job_page_and_model(client, outsider_b, api_b, succeeded_job):
    signed_in(client, outsider_b)
    for method, path in OTHER_ORG_ROUTES:
        assert getattr(client, method)(path.format(id=succeeded_job.public_id)).status_code == 404, path
    assert succeeded_job.fine_tuned_model not in [m["id"] for m in api_b.get("/v1/models").json()["data"]]
    response = api_b.get(f"/v1/models/{succeeded_job.fine_tuned_model}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "model_not_found"
    assert api_b.get(f"/v1/fine_tuning/jobs/{succeeded_job.public_id}/adapter").status_code == 404


def test_continue_training_then_delete_the_model(api_a, succeeded_job, training_file_a):
    body = api_a.post(
        "/v1/fine_tuning/jobs",
        {
            "model": succeeded_job.fine_tuned_model,
            "training_file": training_file_a.public_id,
            "hyperparameters": {"n_epochs": 1},
        },
        format="json",
    ).json()
    child = FineTuningJob.objects.get(public_id=body["id"])
    assert child.parent == succeeded_job and child.base_model == succeeded_job.base_model
    runner.prepare(child.pk, child.organization_id)
    runner.train(child.pk, child.organization_id)
    child.refresh_from_db()
    assert child.status == "succeeded", child.error

    assert api_a.delete(f"/v1/models/{succeeded_job.fine_tuned_model}").json()["deleted"]
    assert succeeded_job.fine_tuned_model not in [m["id"] for m in api_a.get("/v1/models").json()["data"]]


def test_create_form_starts_a_job(client, owner_a, tiny_base, training_file_a):
    response = signed_in(client, owner_a).post(
        "/fine-tuning/new",
        {"model": "tiny-llama", "training_file": training_file_a.public_id, "n_epochs": "2", "suffix": "web"},
    )
    job = FineTuningJob.objects.get()
    assert response.status_code == 302 and response.url == f"/fine-tuning/{job.public_id}"
    assert job.hyperparameters["n_epochs"] == 2 and job.hyperparameters["batch_size"] == "auto"


def test_create_form_shows_errors_next_to_the_field(client, owner_a, tiny_base, training_file_a):
    signed_in(client, owner_a)
    response = client.post(
        "/fine-tuning/new", {"model": "tiny-llama", "training_file": training_file_a.public_id, "n_epochs": "999"}
    )
    assert response.status_code == 400 and "n_epochs: must be between 1 and 50" in response.content.decode()
    response = client.post(
        "/fine-tuning/new", {"model": "tiny-llama", "training_file": training_file_a.public_id, "n_epochs": "lots"}
    )
    assert response.status_code == 400 and "Enter a number" in response.content.decode()
    assert not FineTuningJob.objects.exists()
