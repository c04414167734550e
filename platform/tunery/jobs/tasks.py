"""Job work: preparation on the `cpu` queue, training on the base model's GPU queue, and the
reaper on beat. Ids in, a runner or service call, nothing else."""

from celery import shared_task

from tunery.jobs import preparation_reaper, runner, services


@shared_task(acks_late=True)
def prepare_job(job_id: int, organization_id: int) -> None:
    runner.prepare(job_id, organization_id)


# Sent with apply_async(queue=<the base model's GPU queue>). acks_late: a message whose worker
# died is redelivered, and the claim in runner.train makes a second delivery a no-op.
@shared_task(acks_late=True)
def train_job(job_id: int, organization_id: int) -> None:
    runner.train(job_id, organization_id)


@shared_task
def reap_stalled_jobs() -> int:
    return len(services.requeue_stalled()) + len(preparation_reaper.requeue_unprepared())
