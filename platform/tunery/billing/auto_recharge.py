"""Auto-recharge: when the balance falls below the organization's threshold, charge its card
the chosen amount — once: no second recharge starts while one is in flight or just succeeded."""

import logging

from django.db import transaction
from django.utils import timezone

from tunery.billing import ledger
from tunery.billing.models import Payment
from tunery.billing.payments import PaymentRefused, stripe_enabled, top_up

logger = logging.getLogger(__name__)
QUIET_PERIOD = timezone.timedelta(minutes=10)


def recharge_if_low(organization_id: int, now=None) -> Payment | None:
    from tunery.orgs.models import Organization

    organization = Organization.objects.get(pk=organization_id)
    now = now or timezone.now()
    with transaction.atomic():  # the decision under the account lock; the Stripe call after it
        account = ledger.locked_account(organization)
        if not (stripe_enabled() and account.auto_recharge and account.has_card):
            return None
        if ledger.balance(organization) >= account.auto_recharge_threshold:
            return None
        if Payment.objects.filter(
            organization=organization, automatic=True, created_at__gte=now - QUIET_PERIOD
        ).exists():
            return None  # one in flight or just done; after a decline, wait rather than retry the card in a loop
    # One idempotency key per quiet period: two tasks that both decided to recharge (or one
    # redelivered after its worker died mid-call) make the same single charge.
    window = int(now.timestamp() // QUIET_PERIOD.total_seconds())
    try:
        return top_up(organization, account.auto_recharge_amount, automatic=True, idempotency_key=f"auto-{window}")
    except PaymentRefused as refusal:
        logger.warning(
            "auto-recharge refused", extra={"organization": organization.public_id, "reason": refusal.message}
        )
        return None
