"""Acceptance on the embedded SmolLM2-135M through the official openai client: upload, fine-tune,
watch, list checkpoints, find the model — and the evaluation shows it learned a label set the
base model cannot know. Minutes on 2 CPU cores."""

import openai
import pytest

from tests.conftest import key_client, wait_for
from tests.ml.topic_task import write_task
from tunery.jobs.models import FineTuningJob

pytestmark = pytest.mark.slow


def test_embedded_model_fine_tuned_with_the_openai_client_beats_the_base(
    live_server, org_a, embedded_base, celery_worker, tmp_path
):
    client = openai.OpenAI(base_url=live_server.url + "/v1", api_key=key_client(org_a).secret, max_retries=0)
    train_path, validation_path = write_task(tmp_path, n_train=60, n_validation=30)
    training = client.files.create(file=train_path.open("rb"), purpose="fine-tune")
    validation = client.files.create(file=validation_path.open("rb"), purpose="fine-tune")
    for file_id in (training.id, validation.id):
        wait_for(lambda file_id=file_id: client.files.retrieve(file_id).status == "processed", timeout=120)

    job = client.fine_tuning.jobs.create(
        model="SmolLM2-135M-Instruct",
        training_file=training.id,
        validation_file=validation.id,
        suffix="topics",
        seed=42,
    )
    done = wait_for(
        lambda: (j := client.fine_tuning.jobs.retrieve(job.id)).status in ("succeeded", "failed", "cancelled") and j,
        timeout=900,
        every=2,
    )
    assert done.status == "succeeded", done.error
    assert any(e.type == "metrics" for e in client.fine_tuning.jobs.list_events(job.id, limit=50).data)
    assert client.fine_tuning.jobs.checkpoints.list(job.id).data
    assert done.fine_tuned_model in [m.id for m in client.models.list()]

    evaluation = FineTuningJob.objects.get(public_id=job.id).evaluation
    assert evaluation["classification"]
    assert evaluation["base"]["exact_match_accuracy"] < 0.2
    assert evaluation["fine_tuned"]["exact_match_accuracy"] >= 0.8
    assert evaluation["fine_tuned"]["loss"] < evaluation["base"]["loss"]
