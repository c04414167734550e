from celery import shared_task


@shared_task
def charge_inference_usage() -> int:
    """Beat, every minute: inference usage becomes ledger entries per organization, model and day."""
    from tunery.billing.usage_charges import charge_pending_usage

    return charge_pending_usage()


@shared_task
def auto_recharge(organization_id: int) -> None:
    from tunery.billing.auto_recharge import recharge_if_low

    recharge_if_low(organization_id)
