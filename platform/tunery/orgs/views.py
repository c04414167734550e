from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tunery.orgs import services
from tunery.orgs.access import member_required
from tunery.orgs.forms import InviteForm, OrganizationForm, RoleForm
from tunery.orgs.middleware import SESSION_KEY
from tunery.orgs.models import Invitation, Membership
from tunery.orgs.roles import Role, Scope


@login_required
def create(request):
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organization = services.create_organization(request.user, form.cleaned_data["name"])
        request.session[SESSION_KEY] = organization.public_id
        messages.success(request, f"Created {organization.name}.")
        return redirect("orgs:settings")
    return render(request, "orgs/create.html", {"form": form})


@login_required
@require_POST
def switch(request):
    membership = get_object_or_404(
        Membership, user=request.user, organization__public_id=request.POST.get("organization")
    )
    request.session[SESSION_KEY] = membership.organization.public_id
    return redirect(_local_next(request) or "dashboard:home")


def _local_next(request) -> str | None:
    """The form's `next` when it stays on this site; a link to another host (or `//host`) is an
    open redirect, so it is dropped for the home page."""
    next_url = request.POST.get("next")
    allowed = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return next_url if allowed else None


@member_required()
def settings_page(request, rename_form=None, invite_form=None):
    organization = request.organization
    return render(
        request,
        "orgs/settings.html",
        {
            "rename_form": rename_form or OrganizationForm(instance=organization),
            "invite_form": invite_form or InviteForm(),
            "role_form": RoleForm(),
            "members": organization.memberships.select_related("user").order_by("created_at"),
            "invitations": [i for i in organization.invitations.filter(accepted_at=None) if i.is_pending],
            "can_manage": request.membership.can_manage,
            "is_owner": request.membership.role == Role.OWNER,
        },
    )


@member_required(Scope.ADMIN)
@require_POST
def rename(request):
    form = OrganizationForm(request.POST, instance=request.organization)
    if not form.is_valid():
        return settings_page(request, rename_form=form)
    form.save()
    messages.success(request, "Organization renamed.")
    return redirect("orgs:settings")


@member_required(Scope.ADMIN)
@require_POST
def invite(request):
    form = InviteForm(request.POST)
    if not form.is_valid():
        return settings_page(request, invite_form=form)
    try:
        invitation = services.invite(
            request.organization, form.cleaned_data["email"], form.cleaned_data["role"], request.user
        )
    except services.OrganizationError as error:
        form.add_error("email", str(error))
        return settings_page(request, invite_form=form)
    messages.success(request, f"Invitation sent to {invitation.email}.")
    return redirect("orgs:settings")


@member_required(Scope.ADMIN)
@require_POST
def revoke_invitation(request, invitation_id: str):
    get_object_or_404(Invitation, public_id=invitation_id, organization=request.organization, accepted_at=None).delete()
    messages.success(request, "Invitation revoked.")
    return redirect("orgs:settings")


def _member(request, member_id: str) -> Membership:
    return get_object_or_404(Membership, public_id=member_id, organization=request.organization)


def _apply(request, action, success: str, next_url: str = "orgs:settings"):
    try:
        action()
    except services.OrganizationError as error:
        messages.error(request, str(error))
        return redirect("orgs:settings")
    messages.success(request, success)
    return redirect(next_url)


@member_required(Scope.ADMIN)
@require_POST
def change_role(request, member_id: str):
    membership = _member(request, member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role: admin, member or viewer.")
        return redirect("orgs:settings")
    role = form.cleaned_data["role"]
    return _apply(request, lambda: services.change_role(membership, role), f"{membership.user.email} is now {role}.")


@member_required(Scope.ADMIN)
@require_POST
def remove_member(request, member_id: str):
    membership = _member(request, member_id)
    if membership.role == Role.OWNER and request.membership.role != Role.OWNER:
        messages.error(request, "Only an owner can remove an owner.")
        return redirect("orgs:settings")
    return _apply(request, lambda: services.remove_member(membership), f"Removed {membership.user.email}.")


@member_required()
@require_POST
def leave(request):
    name = request.organization.name
    request.session.pop(SESSION_KEY, None)
    return _apply(request, lambda: services.remove_member(request.membership), f"You left {name}.", "dashboard:home")


@member_required(Scope.ADMIN)
@require_POST
def transfer_ownership(request, member_id: str):
    new_owner = _member(request, member_id)
    return _apply(
        request,
        lambda: services.transfer_ownership(request.membership, new_owner),
        f"{new_owner.user.email} is now the owner.",
    )


def accept_invitation(request, token: str):
    invitation = Invitation.objects.filter(token=token).select_related("organization").first()
    if invitation is None or not invitation.is_pending:
        raise Http404("This invitation link is not valid: it may have expired or been used already.")
    if not request.user.is_authenticated:
        # Whoever holds the link may not be the invitee: name neither the address nor the organization.
        messages.info(request, "Sign up or log in with the e-mail address this invitation was sent to.")
        return redirect(reverse("account_signup") + f"?next={request.path}")
    refusal = services.invitation_refusal(invitation, request.user)
    if refusal:
        return render(request, "orgs/accept_invitation.html", {"refusal": refusal}, status=403)
    if request.method == "POST":
        membership = services.accept_invitation(invitation, request.user)
        request.session[SESSION_KEY] = membership.organization.public_id
        messages.success(request, f"Welcome to {membership.organization.name}.")
        return redirect("dashboard:home")
    return render(request, "orgs/accept_invitation.html", {"invitation": invitation})
