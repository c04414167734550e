from celery import shared_task


@shared_task(acks_late=True)
def prepare_job(job_id: int, organization_id: int) -> None:
    from tunery.jobs.runner import prepare

    prepare(job_id, organization_id)


# Sent with apply_async(queue=<the base model's GPU queue>). acks_late: a message whose worker
# died is redelivered, and the claim in runner.train makes a second delivery a no-op.
@shared_task(acks_late=True)
def train_job(job_id: int, organization_id: int) -> None:
    from tunery.jobs.runner import train

    train(job_id, organization_id)


@shared_task
def reap_stalled_jobs() -> int:
    from tunery.jobs.services import requeue_stalled

    return len(requeue_stalled())
