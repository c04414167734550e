"""Billing work on the `cpu` queue."""

from celery import shared_task

from tunery.billing.auto_recharge import recharge_if_low


@shared_task
def auto_recharge(organization_id: int) -> None:
    recharge_if_low(organization_id)
