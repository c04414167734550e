"""Acceptance on the embedded SmolLM2-135M through the official openai client: upload, fine-tune,
watch, list checkpoints, find the model — and the evaluation shows it learned a label set the
base model cannot know. Minutes on 2 CPU cores.

No seed is fixed: each run draws its own rows and the job picks its own training seed, so the
bar must hold for every seed. bench/acceptance_seeds.py runs this path over many seeds and shows
the margin (docs/training.md, "Tests")."""

import random

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
    data_seed = random.randrange(2**31)
    train_path, validation_path = write_task(tmp_path, n_train=60, n_validation=30, seed=data_seed)
    training = client.files.create(file=train_path.open("rb"), purpose="fine-tune")
    validation = client.files.create(file=validation_path.open("rb"), purpose="fine-tune")
    for file_id in (training.id, validation.id):
        wait_for(lambda file_id=file_id: client.files.retrieve(file_id).status == "processed", timeout=120)

    job = client.fine_tuning.jobs.create(
        model="SmolLM2-135M-Instruct",
        training_file=training.id,
        validation_file=validation.id,
        suffix="topics",
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
    reproduce = f"data seed {data_seed}, job seed {done.seed}"  # to rerun a failure exactly
    assert evaluation["classification"]
    assert evaluation["base"]["exact_match_accuracy"] < 0.2, reproduce
    assert evaluation["fine_tuned"]["exact_match_accuracy"] >= 0.8, reproduce
    assert evaluation["fine_tuned"]["loss"] < evaluation["base"]["loss"]
