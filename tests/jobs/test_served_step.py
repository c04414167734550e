"""A job says which step its model comes from, with the validation answers of every checkpoint."""

from tests.conftest import run_job_here, signed_in


def test_the_job_names_the_step_it_serves_and_scores_each_checkpoint(
    client, owner_a, api_a, tiny_base, training_file_a, monkeypatch
):
    monkeypatch.setattr("tunery.jobs.runner.enqueue_training", lambda job: None)
    job = run_job_here(api_a, training_file_a, n_epochs=2)
    assert job.status == "succeeded", job.error

    body = api_a.get(f"/v1/fine_tuning/jobs/{job.public_id}").json()
    checkpoints = {c.step: c.metrics for c in job.checkpoints.all()}
    assert body["served_step"] in checkpoints and body["served_step"] <= job.step
    assert all(metrics.get("valid_answer_score") is not None for metrics in checkpoints.values())
    served = checkpoints[body["served_step"]]["valid_answer_score"]
    assert served == max(metrics["valid_answer_score"] for metrics in checkpoints.values())

    series = signed_in(client, owner_a).get(f"/fine-tuning/{job.public_id}/metrics.json").json()
    assert series["validation"] and all(point["answers"] is not None for point in series["validation"])
    page = signed_in(client, owner_a).get(f"/fine-tuning/{job.public_id}").content.decode()
    assert f"holds the weights of step {body['served_step']}" in page and ">served</span>" in page


def test_another_organization_cannot_see_the_metrics(client, outsider_b, succeeded_job):
    response = signed_in(client, outsider_b).get(f"/fine-tuning/{succeeded_job.public_id}/metrics.json")
    assert response.status_code == 404
