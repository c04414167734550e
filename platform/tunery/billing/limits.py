"""What an organization may still spend: its balance and its monthly spend limit. Jobs and
evaluations are refused up front (402); inference is refused with OpenAI's 429 `insufficient_quota`."""

import logging
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from tunery.api.errors import ApiError, RefusedRequest
from tunery.billing import ledger
from tunery.billing.models import CHARGE_KINDS, LedgerEntry, SpendNotice
from tunery.billing.money import display, usd
from tunery.orgs.roles import MANAGER_ROLES

logger = logging.getLogger(__name__)
NOTICE_PERCENTS = (80, 100)


class BillingRefusal(RefusedRequest):
    """A job the organization cannot pay for."""


def month_start(now=None):
    now = timezone.localtime(now or timezone.now())
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_spend(organization, now=None) -> Decimal:
    """Charged this month, plus what is held for jobs still running (already committed)."""
    charged = LedgerEntry.objects.filter(
        organization=organization, kind__in=CHARGE_KINDS, created_at__gte=month_start(now)
    )
    total = -(charged.aggregate(total=Sum("amount"))["total"] or 0)
    return usd(total) + ledger.held(organization)


def check_job_affordable(organization, amount: Decimal) -> None:
    """Call with the billing account locked (ledger.locked_account) so the answer holds until
    the hold is written."""
    check_affordable(
        organization, amount, "This job", "train on fewer tokens (fewer epochs or a smaller file)", "training_file"
    )


def check_affordable(organization, amount: Decimal, what: str, smaller: str, param: str) -> None:
    """Refuse (402) work estimated at `amount` that the balance or the monthly spend limit
    cannot cover; `what` is the work ("This job"), `smaller` how to ask for less, `param` the
    field to change. Call with the billing account locked, as for jobs."""
    available = ledger.balance(organization)
    if amount > available:
        raise BillingRefusal(
            f"{what} is estimated at {display(amount)} but the organization's balance is {display(available)}. "
            f"Top up on the billing page, or {smaller}.",
            code="insufficient_balance",
            param=param,
            status=402,
        )
    limit = ledger.account_for(organization).monthly_spend_limit
    if limit is not None:
        spent = month_spend(organization)
        if spent + amount > limit:
            raise BillingRefusal(
                f"{what} is estimated at {display(amount)}; with {display(spent)} already spent or held this "
                f"month it would pass the monthly spend limit of {display(limit)}. An owner or admin can raise "
                "the limit on the billing page.",
                code="spend_limit_reached",
                param=param,
                status=402,
            )


# A "yes" to an inference call is remembered this long, so a busy organization's calls cost one
# cache read instead of three ledger sums. A "no" is never remembered (a top-up unblocks at once),
# and every charge forgets the "yes" (after_spend). Running out can still be noticed up to this
# much later than the charge: a check that read the ledger just before may store its "yes" just
# after, and without Redis each process has its own cache, which the charging worker cannot clear.
INFERENCE_ALLOWED_SECONDS = 10


def _allowed_key(organization) -> str:
    return f"billing:inference-allowed:{organization.public_id}"


def check_inference_allowed(organization) -> None:
    if cache.get(_allowed_key(organization)):
        return
    available = ledger.balance(organization)
    if available <= 0:
        raise ApiError(
            f"You have run out of credit (balance {display(available)}). Top up on the billing page to continue.",
            status_code=429,
            code="insufficient_quota",
            type="insufficient_quota",
        )
    limit = ledger.account_for(organization).monthly_spend_limit
    if limit is not None and month_spend(organization) >= limit:
        raise ApiError(
            f"The organization reached its monthly spend limit of {display(limit)}. "
            "An owner or admin can raise it on the billing page.",
            status_code=429,
            code="insufficient_quota",
            type="insufficient_quota",
        )
    cache.set(_allowed_key(organization), True, INFERENCE_ALLOWED_SECONDS)


def after_spend(organization, now=None) -> None:
    """After money was charged or held: send the 80% / 100% spend-limit notices (once per
    month each) and start an auto-recharge when the balance fell below its threshold. Runs
    after the charge committed, so it never fails the request or task that charged: a mail
    server or broker that is down is logged, not raised."""
    try:
        cache.delete(_allowed_key(organization))
        _after_spend(organization, now)
    except Exception:
        logger.exception("after-spend follow-up failed", extra={"organization": organization.public_id})


def _after_spend(organization, now=None) -> None:
    account = ledger.account_for(organization)
    if account.monthly_spend_limit:
        ratio = month_spend(organization, now) / account.monthly_spend_limit
        for percent in NOTICE_PERCENTS:
            if ratio * 100 >= percent:
                _notify(organization, account, percent, now)
    if account.auto_recharge and account.has_card and ledger.balance(organization) < account.auto_recharge_threshold:
        from tunery.billing.tasks import auto_recharge

        transaction.on_commit(lambda: auto_recharge.delay(organization.pk))


def current_notices(organization) -> list[int]:
    """The thresholds reached this month under the current limit, if they still hold."""
    limit = ledger.account_for(organization).monthly_spend_limit
    if not limit:
        return []
    reached = month_spend(organization) * 100 / limit
    notices = SpendNotice.objects.filter(organization=organization, month=month_start().date(), limit=limit)
    return [p for p in notices.values_list("percent", flat=True) if reached >= p]


def _notify(organization, account, percent: int, now=None) -> None:
    """Record the notice and send it in one transaction: if the mail cannot go out, the notice
    is not recorded either, and the next charge tries again."""
    recipients = list(organization.memberships.filter(role__in=MANAGER_ROLES).values_list("user__email", flat=True))
    what = "reached" if percent >= 100 else f"reached {percent}% of"
    consequence = (
        "New jobs and inference are refused until the limit is raised or the month ends."
        if percent >= 100
        else "At 100%, new jobs and inference are refused."
    )
    try:
        with transaction.atomic():
            SpendNotice.objects.create(
                organization=organization,
                month=month_start(now).date(),
                percent=percent,
                limit=account.monthly_spend_limit,
            )
            if recipients:
                send_mail(
                    f"[Tunery] {organization.name} {what} its monthly spend limit",
                    f"{organization.name} has {what} its monthly spend limit of "
                    f"{display(account.monthly_spend_limit)}. {consequence}\n\n"
                    f"Billing: {settings.SITE_URL}/billing\n",
                    None,
                    recipients,
                )
    except IntegrityError:
        return  # already sent this month
    logger.info("spend notice", extra={"organization": organization.public_id, "percent": percent})
