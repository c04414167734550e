"""Inference work on the `cpu` queue."""

from celery import shared_task

from tunery.inference.charges import charge_pending_usage
from tunery.inference.rollup import roll_up_usage


@shared_task
def charge_inference_usage() -> int:
    """Beat, every minute: inference usage becomes ledger entries per organization, model and day."""
    return charge_pending_usage()


@shared_task
def roll_up_inference_usage() -> int:
    """Beat, every 10 minutes: ended days of inference requests become usage roll-ups."""
    return roll_up_usage()
