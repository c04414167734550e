"""Organization workflows. Each keeps the invariant that an organization has an owner."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tunery.orgs.models import Invitation, Membership, Organization
from tunery.orgs.roles import Role


class OrganizationError(Exception):
    """A request that would break a rule; the message is shown to the user as is."""


@transaction.atomic
def create_organization(owner, name: str, *, personal: bool = False) -> Organization:
    organization = Organization.objects.create(name=name, personal=personal)
    Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
    return organization


def create_personal_organization(user) -> Organization:
    label = user.email.split("@")[0] if user.email else user.get_username()
    return create_organization(user, f"{label}'s organization", personal=True)


def invite(organization: Organization, email: str, role: str, invited_by) -> Invitation:
    email = email.strip().lower()
    if organization.memberships.filter(user__email__iexact=email).exists():
        raise OrganizationError(f"{email} is already a member of {organization.name}.")
    if role == Role.OWNER:
        raise OrganizationError("Invite as admin, then transfer ownership once they have joined.")
    invitation = Invitation.objects.create(organization=organization, email=email, role=role, invited_by=invited_by)
    link = settings.SITE_URL + reverse("orgs:accept_invitation", args=[invitation.token])
    send_mail(
        subject=f"You are invited to {organization.name} on Tunery",
        message=f"{invited_by.email} invited you to join {organization.name} as {invitation.get_role_display()}.\n\n"
        f"Accept the invitation: {link}\n\nThe link is valid for 7 days.",
        from_email=None,
        recipient_list=[email],
    )
    return invitation


def invitation_refusal(invitation: Invitation, user) -> str | None:
    """Why `user` may not accept `invitation`, or None. An invitation is bound to the address it
    was sent to: only a user who has verified that address may use it, so a leaked or forwarded
    link does not let anyone else join (with the invitation's role)."""
    if not invitation.is_pending:
        return "This invitation has expired or was already used."
    addresses = EmailAddress.objects.filter(user=user, email__iexact=invitation.email)
    if settings.ACCOUNT_EMAIL_VERIFICATION != "none":
        # (With TUNERY_EMAIL_VERIFICATION=none the operator chose not to prove addresses, and
        # none is ever verified: the address itself is all there is to match.)
        addresses_that_count = addresses.filter(verified=True)
    else:
        addresses_that_count = addresses
    if addresses_that_count.exists():
        return None
    if addresses.exists():
        return (
            f"Confirm your address {invitation.email} first (follow the link in the confirmation e-mail), "
            "then open the invitation again."
        )
    return (
        "This invitation was sent to a different e-mail address than yours. "
        "Log in with the address it was sent to, or ask for an invitation to your own address."
    )


@transaction.atomic
def accept_invitation(invitation: Invitation, user) -> Membership:
    refusal = invitation_refusal(invitation, user)
    if refusal:
        raise OrganizationError(refusal)
    membership, created = Membership.objects.get_or_create(
        organization=invitation.organization, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return membership


def _lock_owners(organization: Organization) -> int:
    return Membership.objects.select_for_update().filter(organization=organization, role=Role.OWNER).count()


@transaction.atomic
def change_role(membership: Membership, role: str) -> None:
    if role == Role.OWNER:
        raise OrganizationError("Use “transfer ownership” to make someone the owner.")
    if membership.role == Role.OWNER and _lock_owners(membership.organization) <= 1:
        raise OrganizationError("The last owner cannot be demoted: transfer ownership first.")
    membership.role = role
    membership.save(update_fields=["role"])


@transaction.atomic
def remove_member(membership: Membership) -> None:
    if membership.role == Role.OWNER and _lock_owners(membership.organization) <= 1:
        raise OrganizationError("The last owner cannot leave or be removed: transfer ownership first.")
    membership.delete()


@transaction.atomic
def transfer_ownership(current_owner: Membership, new_owner: Membership) -> None:
    if current_owner.role != Role.OWNER:
        raise OrganizationError("Only an owner can transfer ownership.")
    if new_owner.organization_id != current_owner.organization_id or new_owner.pk == current_owner.pk:
        raise OrganizationError("Choose another member of this organization.")
    new_owner.role = Role.OWNER
    new_owner.save(update_fields=["role"])
    current_owner.role = Role.ADMIN
    current_owner.save(update_fields=["role"])
