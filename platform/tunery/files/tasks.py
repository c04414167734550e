"""Dataset work on the `cpu` queue: ids in, a service call, nothing else."""

from celery import shared_task

from tunery.files.derivation import derive
from tunery.files.inspection import inspect


@shared_task(acks_late=True)
def inspect_file(file_id: int, organization_id: int) -> None:
    inspect(file_id, organization_id)


@shared_task(acks_late=True)
def derive_files(source_id: int, organization_id: int, target_ids: list[int], operation: dict) -> None:
    derive(source_id, organization_id, target_ids, operation)
