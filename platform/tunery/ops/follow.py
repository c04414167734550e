"""Follow a fine-tuning job from a terminal: a progress bar (step/total, training loss, ETA)
while it trains, then base against fine-tuned scores from its evaluation. Used by bin/demo
(`seed_demo --follow`) and `manage.py follow_job`; it only reads the job's row and events, so
it works from any machine that reaches the database."""

import time
from collections.abc import Callable
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse

from tunery.billing import ledger
from tunery.billing.money import display
from tunery.jobs.holdout import evaluation_caveat
from tunery.jobs.models import FINAL_STATUSES, FineTuningJob, JobStatus

BAR_WIDTH = 30


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def last_train_loss(job: FineTuningJob) -> float | None:
    # Validation events carry no train_loss: look back a few events for the latest step's.
    for data in job.events.filter(type="metrics").order_by("-created_at", "-pk").values_list("data", flat=True)[:5]:
        if data and data.get("train_loss") is not None:
            return data["train_loss"]
    return None


def bar(fraction: float) -> str:
    filled = int(round(BAR_WIDTH * min(max(fraction, 0.0), 1.0)))
    return "[" + "#" * filled + "-" * (BAR_WIDTH - filled) + f"] {fraction:4.0%}"


def status_line(job: FineTuningJob) -> str:
    """One line that says where the job is; training shows the bar."""
    if job.status == JobStatus.VALIDATING_FILES:
        return "Checking the training file against the base model…"
    if job.status == JobStatus.QUEUED:
        return f"Queued: waiting for a worker on the {job.base_model.gpu_queue!r} queue…"
    if job.status == JobStatus.PAUSED:
        return f"{bar(job.progress)} paused at step {job.step}/{job.total_steps}"
    if job.status == JobStatus.RUNNING and not job.total_steps:
        return "Loading the base model…"
    if job.status == JobStatus.RUNNING:
        parts = [bar(job.progress), f"step {job.step}/{job.total_steps}"]
        loss = last_train_loss(job)
        if loss is not None:
            parts.append(f"loss {loss:.3f}")
        if job.step >= job.total_steps:
            parts.append("evaluating base vs fine-tuned…")
        elif job.eta_seconds is not None:
            parts.append(f"ETA {duration(job.eta_seconds)}")
        return " · ".join(parts)
    return f"{bar(job.progress)} {job.status}"


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def summary(job: FineTuningJob) -> list[str]:
    """What the job came to: its model and how it compares with the base, or why it stopped."""
    if job.status not in FINAL_STATUSES:
        return [f"Stopped following: the job is still {job.status}."]
    if job.status != JobStatus.SUCCEEDED:
        reason = (job.error or {}).get("message") or job.status
        return [f"Fine-tune {job.status}: {reason}"]
    took = (
        f" in {duration((job.finished_at - job.started_at).total_seconds())}"
        if job.started_at and job.finished_at
        else ""
    )
    lines = [f"Fine-tune succeeded{took}: {job.fine_tuned_model}"]
    charged = ledger.job_charge(job)
    if charged is not None:
        balance = display(ledger.balance(job.organization))
        lines.append(f"Charged {display(charged)} for {job.trained_tokens:,} trained tokens; balance {balance}")
    evaluation = job.evaluation
    if not evaluation:
        return lines + ["No evaluation (too few examples to hold some out)."]
    base, tuned = evaluation["base"], evaluation["fine_tuned"]
    if base.get("exact_match_accuracy") is not None:
        lines.append(
            f"Exact match on {evaluation.get('n_answered') or evaluation['n_examples']} held-out examples: "
            f"base {percent(base['exact_match_accuracy'])} → fine-tuned {percent(tuned['exact_match_accuracy'])}"
        )
    lines.append(f"Validation loss: base {base['loss']:.3f} → fine-tuned {tuned['loss']:.3f}")
    caveat = evaluation_caveat(evaluation)
    return lines + [caveat] if caveat else lines


def follow(
    job: FineTuningJob, write: Callable[[str], None], *, tty: bool, every: float = 1.0, timeout: float | None = None
) -> FineTuningJob:
    """Redraw the status line until the job ends (or `timeout` seconds pass); return the job.

    On a terminal the line is redrawn in place; into a file or pipe, a line is written only
    when the status or the step changes, so a log stays readable."""
    deadline = None if timeout is None else time.monotonic() + timeout
    shown, width = None, 0
    while True:
        job.refresh_from_db()
        line = status_line(job)
        if tty:
            write("\r" + line.ljust(width))
            width = len(line)
        elif (job.status, job.step) != shown:
            write(line + "\n")
        shown = (job.status, job.step)
        if job.status in FINAL_STATUSES or (deadline is not None and time.monotonic() > deadline):
            break
        time.sleep(every)
    if tty:
        write("\n")
    return job


def job_url(job: FineTuningJob) -> str:
    return settings.SITE_URL + reverse("jobs:detail", args=[job.public_id])


def follow_and_report(job: FineTuningJob, stdout, *, every: float = 1.0, timeout: float | None = None) -> bool:
    """Follow `job` on a management command's stdout and print the outcome; True if it succeeded."""
    job = follow(job, lambda text: stdout.write(text, ending=""), tty=stdout.isatty(), every=every, timeout=timeout)
    for line in summary(job):
        stdout.write(line)
    if job.status == JobStatus.SUCCEEDED:
        stdout.write(
            f"Try it: {settings.SITE_URL}{reverse('inference:playground')}?model={quote(job.fine_tuned_model)}"
        )
    return job.status == JobStatus.SUCCEEDED
