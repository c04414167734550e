"""The dashboard: a getting-started checklist ticked from what the organization really has,
its recent fine-tunes and datasets, and nothing of any other organization's."""

import re

from tests.conftest import signed_in
from tunery.inference.models import InferenceRequest
from tunery.jobs.models import FineTuningJob, JobStatus

STEPS = ["upload", "fine-tune", "playground", "api-key"]


def done_steps(page: str) -> list[str]:
    return [key for key in STEPS if re.search(rf'<li id="step-{key}" class="done">', page)]


def start_job(api, training_file) -> FineTuningJob:
    body = api.post(
        "/v1/fine_tuning/jobs",
        {"model": "tiny-llama", "training_file": training_file.public_id, "suffix": "tickets"},
        format="json",
    ).json()
    return FineTuningJob.objects.get(public_id=body["id"])


def test_an_empty_organization_sees_the_checklist_with_nothing_ticked(client, owner_a):
    page = signed_in(client, owner_a).get("/").content.decode()
    assert 'id="getting-started"' in page and "0 of 4 done" in page
    for key, url in zip(STEPS, ["/datasets", "/fine-tuning/new", "/playground", "/settings/api-keys"]):
        assert re.search(rf'<li id="step-{key}" class="">.*?href="{url}"', page, re.S), key
    assert done_steps(page) == []
    assert "No fine-tunes yet" in page and "No datasets yet" in page
    assert "$10.00" in page  # the trial credit, on the balance card


def test_steps_tick_as_the_organization_uploads_fine_tunes_and_makes_a_key(
    client, owner_a, org_a, api_a, tiny_base, training_file_a
):
    signed_in(client, owner_a)
    page = client.get("/").content.decode()
    assert done_steps(page) == ["upload", "api-key"]  # api_a made a key
    assert f"/fine-tuning/new?training_file={training_file_a.public_id}" in page  # the next step starts from it
    assert "train.jsonl" in page and f"/datasets/{training_file_a.public_id}" in page

    job = start_job(api_a, training_file_a)
    FineTuningJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, step=3, total_steps=12, eta_seconds=90)
    page = client.get("/").content.decode()
    assert done_steps(page) == ["upload", "fine-tune", "api-key"] and "3 of 4 done" in page
    assert f"/fine-tuning/{job.public_id}" in page and "step 3/12" in page and "width:25%" in page
    assert 'hx-trigger="every 5s"' in page  # the recent jobs refresh themselves while one is active

    FineTuningJob.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, fine_tuned_model="ft:tiny-llama:org-a:tickets:abcd1234"
    )
    page = client.get("/").content.decode()
    assert "/playground?model=ft%3Atiny-llama%3Aorg-a%3Atickets%3Aabcd1234" in page
    assert 'hx-trigger="every 5s"' not in page

    InferenceRequest.objects.create(
        organization=org_a, model="tiny-llama", endpoint="chat.completions", status_code=200, latency_ms=5
    )
    page = client.get("/").content.decode()
    assert 'id="getting-started"' not in page  # all four done: the checklist makes way
    assert "ft:tiny-llama:org-a:tickets:abcd1234" in page


def test_it_never_shows_another_organizations_work(client, outsider_b, api_a, tiny_base, training_file_a):
    job = start_job(api_a, training_file_a)
    page = signed_in(client, outsider_b).get("/").content.decode()
    assert job.public_id not in page and training_file_a.public_id not in page and "train.jsonl" not in page
    assert done_steps(page) == [] and "No fine-tunes yet" in page


def test_a_viewer_sees_the_dashboard(client, viewer_a, training_file_a):
    assert "train.jsonl" in signed_in(client, viewer_a).get("/").content.decode()
