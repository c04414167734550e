"""Inference work on the `cpu` queue."""

from celery import shared_task

from tunery.inference.charges import charge_pending_usage


@shared_task
def charge_inference_usage() -> int:
    """Beat, every minute: inference usage becomes ledger entries per organization, model and day."""
    return charge_pending_usage()
