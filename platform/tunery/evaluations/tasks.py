"""Evaluation work: the run on its base model's GPU queue, and the reaper on beat. Ids in, a
runner or service call, nothing else."""

from celery import shared_task

from tunery.evaluations import runner, services


# Sent with apply_async(queue=<the base model's GPU queue>). acks_late: a message whose worker
# died is redelivered, and the claim in runner.run makes a second delivery a no-op.
@shared_task(acks_late=True)
def run_evaluation(run_id: int, organization_id: int) -> None:
    runner.run(run_id, organization_id)


@shared_task
def reap_stalled_evaluations() -> int:
    return len(services.requeue_stalled())
