from celery import shared_task


@shared_task(acks_late=True)
def inspect_file(file_id: int, organization_id: int) -> None:
    from tunery.files.inspection import inspect

    inspect(file_id, organization_id)


@shared_task(acks_late=True)
def derive_files(source_id: int, organization_id: int, target_ids: list[int], operation: dict) -> None:
    from tunery.files.derivation import derive

    derive(source_id, organization_id, target_ids, operation)
