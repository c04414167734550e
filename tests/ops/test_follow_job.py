"""`manage.py follow_job` (and `seed_demo --follow`, which bin/demo runs): a terminal progress
bar for a fine-tune, then base against fine-tuned scores."""

import io

import pytest
from django.core.management import CommandError, call_command

from tunery.jobs.models import FineTuningJob, JobStatus
from tunery.ops.follow import follow, status_line

CLASSIFICATION = {
    "n_examples": 8,
    "classification": True,
    "validation_source": "training_file",
    "base": {"loss": 5.25, "exact_match_accuracy": 0.0},
    "fine_tuned": {"loss": 0.125, "exact_match_accuracy": 0.875},
}


def test_the_bar_shows_step_loss_and_eta_while_training(succeeded_job):
    job = succeeded_job
    job.status, job.step, job.total_steps, job.eta_seconds = JobStatus.RUNNING, 12, 48, 80
    line = status_line(job)
    assert line.startswith("[" + "#" * 8 + "-" * 22 + "]  25%")
    assert "step 12/48" in line and "loss " in line and "ETA 1m 20s" in line

    job.step = 48
    assert "evaluating base vs fine-tuned" in status_line(job)
    job.status, job.total_steps = JobStatus.RUNNING, 0
    assert status_line(job) == "Loading the base model…"
    job.status = JobStatus.QUEUED
    assert "'gpu' queue" in status_line(job)


def test_it_follows_a_job_to_the_end_and_prints_base_vs_fine_tuned(succeeded_job):
    FineTuningJob.objects.filter(pk=succeeded_job.pk).update(evaluation=CLASSIFICATION)
    out = io.StringIO()
    call_command("follow_job", succeeded_job.public_id, "--every", "0", stdout=out)
    text = out.getvalue()
    assert f"/fine-tuning/{succeeded_job.public_id}" in text
    assert "#" * 30 + "] 100% succeeded" in text
    assert "Fine-tune succeeded in " in text and succeeded_job.fine_tuned_model in text
    assert f"for {succeeded_job.trained_tokens:,} trained tokens; balance $" in text
    assert "Exact match on 8 held-out examples: base 0.0% → fine-tuned 87.5%" in text
    assert "Validation loss: base 5.250 → fine-tuned 0.125" in text
    assert "In-distribution: expect lower on new data." in text  # held out of the training file
    assert "/playground?model=ft%3Atiny-llama" in text


def test_on_a_terminal_it_redraws_one_line(succeeded_job):
    written = []
    follow(succeeded_job, written.append, tty=True, every=0)
    assert written[0].startswith("\r[") and written[-1] == "\n"


def test_a_failed_job_says_why_and_fails_the_command(succeeded_job):
    FineTuningJob.objects.filter(pk=succeeded_job.pk).update(
        status=JobStatus.FAILED, error={"code": "x", "message": "Out of memory with batch size 8: try 4."}
    )
    out = io.StringIO()
    with pytest.raises(CommandError, match="did not succeed"):
        call_command("follow_job", succeeded_job.public_id, "--every", "0", stdout=out)
    assert "Fine-tune failed: Out of memory with batch size 8: try 4." in out.getvalue()


@pytest.mark.django_db
def test_an_unknown_job_is_refused():
    with pytest.raises(CommandError, match="No fine-tuning job ftjob-nope"):
        call_command("follow_job", "ftjob-nope", stdout=io.StringIO())
