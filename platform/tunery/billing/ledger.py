"""The ledger: the one place that writes money. The balance is the sum of an organization's
entries; a hold is placed under a row lock on its billing account, so two jobs started at the
same moment on a balance that covers one cannot both start."""

from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum

from tunery.billing.models import BillingAccount, EntryKind, LedgerEntry
from tunery.billing.money import cost, usd


def account_for(organization) -> BillingAccount:
    """The organization's billing account, created on first use with the trial credit."""
    account = BillingAccount.objects.filter(organization=organization).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            account = BillingAccount.objects.create(organization=organization)
            trial = usd(settings.TUNERY_TRIAL_CREDIT)
            if trial > 0:
                LedgerEntry.objects.create(
                    organization=organization, kind=EntryKind.TRIAL, amount=trial, description="Trial credit"
                )
            return account
    except IntegrityError:  # created by a concurrent request
        return BillingAccount.objects.get(organization=organization)


def locked_account(organization) -> BillingAccount:
    """The account row locked until the surrounding transaction ends."""
    account_for(organization)
    return BillingAccount.objects.select_for_update().get(organization=organization)


def balance(organization) -> Decimal:
    """Credits minus charges minus what is held for running jobs."""
    account_for(organization)  # the trial credit is part of the first balance anyone sees
    total = LedgerEntry.objects.filter(organization=organization).aggregate(total=Sum("amount"))["total"]
    return usd(total or 0)


def held(organization) -> Decimal:
    """What is currently held for jobs that have not been settled yet."""
    holds = LedgerEntry.objects.filter(organization=organization, kind__in=[EntryKind.HOLD, EntryKind.RELEASE])
    return usd(-(holds.aggregate(total=Sum("amount"))["total"] or 0))


def credit(organization, kind: str, amount: Decimal, description: str, **links) -> LedgerEntry:
    if amount <= 0:
        raise ValueError("a credit is a positive amount")
    account_for(organization)  # the trial credit comes first
    return LedgerEntry.objects.create(
        organization=organization, kind=kind, amount=usd(amount), description=description, **links
    )


def hold(organization, amount: Decimal, tokens: int, description: str, **links) -> LedgerEntry:
    """Set `amount` aside from the balance until it is released. Call with the account locked
    (locked_account), after checking the amount is affordable."""
    return LedgerEntry.objects.create(
        organization=organization,
        kind=EntryKind.HOLD,
        amount=-usd(amount),
        tokens=tokens,
        description=description,
        **links,
    )


def hold_for_job(job, amount: Decimal, tokens: int) -> LedgerEntry:
    return hold(
        job.organization, amount, tokens, f"Hold for fine-tuning job {job.public_id}: up to {tokens:,} tokens", job=job
    )


def settle(
    organization, held_entry: LedgerEntry | None, kind: str, amount: Decimal, tokens: int, description: str
) -> LedgerEntry | None:
    """Release a hold that is not a job's (if there is one) and charge `amount` (if any);
    returns the charge. Not idempotent by itself: the caller settles inside the conditional
    state change that ends the work, so it runs once (as evaluations do)."""
    if held_entry is not None:
        LedgerEntry.objects.create(
            organization=organization,
            kind=EntryKind.RELEASE,
            amount=-held_entry.amount,
            description=f"Hold released: {held_entry.description}",
        )
    if amount <= 0:
        return None
    return LedgerEntry.objects.create(
        organization=organization, kind=kind, amount=-usd(amount), tokens=tokens, description=description
    )


def settle_job(job, tokens: int) -> bool:
    """At the end of a job: release its hold and charge `tokens` (what the job may be charged
    for: the caller decides) at its quoted price. Safe to call twice (one release and one charge
    per job, by constraint). True when it charged something."""
    with transaction.atomic():
        hold = LedgerEntry.objects.filter(job=job, kind=EntryKind.HOLD).first()
        if hold is None or LedgerEntry.objects.filter(job=job, kind=EntryKind.RELEASE).exists():
            return False
        LedgerEntry.objects.create(
            organization_id=job.organization_id,
            job=job,
            kind=EntryKind.RELEASE,
            amount=-hold.amount,
            description=f"Hold released: job {job.public_id} {job.status}",
        )
        if not tokens or job.price is None:
            return False
        charge = cost(tokens, job.price.training_per_million)
        if charge <= 0:
            return False
        LedgerEntry.objects.create(
            organization_id=job.organization_id,
            job=job,
            kind=EntryKind.JOB_CHARGE,
            amount=-charge,
            tokens=tokens,
            description=f"Fine-tuning {job.public_id} ({job.status}): {tokens:,} trained tokens",
        )
        return True


def job_charge(job) -> Decimal | None:
    """What a settled job was charged (positive), or None while it is not settled."""
    if not LedgerEntry.objects.filter(job=job, kind=EntryKind.RELEASE).exists():
        return None
    charge = LedgerEntry.objects.filter(job=job, kind=EntryKind.JOB_CHARGE).values_list("amount", flat=True).first()
    return -charge if charge is not None else Decimal(0)
