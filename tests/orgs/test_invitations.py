import re

import pytest
from django.core import mail
from django.test import Client

from tests.conftest import make_user, signed_in
from tunery.orgs.models import Invitation


def _invite(client, owner, email="guest@x.test", role="member"):
    signed_in(client, owner).post("/settings/organization/invite", {"email": email, "role": role})
    return Invitation.objects.get(email=email)


def test_invitation_email_link_lets_the_invitee_join(client, owner_a, org_a):
    invitation = _invite(client, owner_a)
    link = re.search(r"http\S+/invitations/\S+", mail.outbox[-1].body).group(0)
    assert invitation.token in link
    guest = make_user("guest@x.test")
    signed_in(client, guest).post(f"/invitations/{invitation.token}")
    assert org_a.memberships.get(user=guest).role == "member"
    assert client.get(f"/invitations/{invitation.token}").status_code == 404  # single use


def test_anonymous_invitee_is_sent_to_sign_up(client, owner_a):
    invitation = _invite(client, owner_a)
    client.logout()
    response = client.get(f"/invitations/{invitation.token}")
    assert response.status_code == 302 and response.url.startswith("/accounts/signup/?next=/invitations/")


def test_forged_invitation_token_is_404(client, member_a):
    response = signed_in(client, member_a).post("/invitations/not-a-real-token")
    assert response.status_code == 404 and "not valid" in response.content.decode()


def test_inviting_an_existing_member_shows_an_inline_error(client, owner_a, member_a):
    response = signed_in(client, owner_a).post(
        "/settings/organization/invite", {"email": member_a.email, "role": "member"}
    )
    assert response.status_code == 200 and "already a member" in response.content.decode()


def test_bad_email_is_an_inline_error(client, owner_a):
    response = signed_in(client, owner_a).post("/settings/organization/invite", {"email": "nope", "role": "member"})
    assert "Enter a valid email address" in response.content.decode()
    assert not Invitation.objects.exists()


def test_viewer_cannot_invite(client, viewer_a):
    assert (
        signed_in(client, viewer_a)
        .post("/settings/organization/invite", {"email": "g@x.test", "role": "member"})
        .status_code
        == 403
    )


def test_outsider_cannot_revoke_another_organizations_invitation(client, owner_a, outsider_b):
    invitation = _invite(client, owner_a)
    assert (
        signed_in(client, outsider_b)
        .post(f"/settings/organization/invitations/{invitation.public_id}/revoke")
        .status_code
        == 404
    )
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_someone_else_cannot_accept_an_invitation_meant_for_another_address(client, owner_a, org_a, outsider_b):
    invitation = _invite(Client(), owner_a, email="guest@x.test", role="admin")
    response = signed_in(client, outsider_b).post(f"/invitations/{invitation.token}")
    page = response.content.decode()
    assert response.status_code == 403 and "sent to a different e-mail address" in page
    assert "guest@x.test" not in page and "Org A" not in page
    assert not org_a.memberships.filter(user=outsider_b).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None  # the invitee can still use it


def test_the_invitees_address_must_be_verified(client, owner_a, org_a):
    from allauth.account.models import EmailAddress

    invitation = _invite(client, owner_a)
    guest = make_user("Guest@X.test")  # addresses compare case-insensitively
    EmailAddress.objects.filter(user=guest).update(verified=False)
    response = signed_in(client, guest).post(f"/invitations/{invitation.token}")
    assert response.status_code == 403 and "Confirm your address" in response.content.decode()
    assert not org_a.memberships.filter(user=guest).exists()
    EmailAddress.objects.filter(user=guest).update(verified=True)
    client.post(f"/invitations/{invitation.token}")
    assert org_a.memberships.filter(user=guest).exists()


def test_accept_invitation_service_refuses_another_user(owner_a, org_a, outsider_b, client):
    from tunery.orgs.services import OrganizationError, accept_invitation

    invitation = _invite(client, owner_a)
    with pytest.raises(OrganizationError, match="different e-mail address"):
        accept_invitation(invitation, outsider_b)


def test_anonymous_visitor_learns_neither_the_address_nor_the_organization(client, owner_a):
    invitation = _invite(Client(), owner_a)
    page = client.get(f"/invitations/{invitation.token}", follow=True).content.decode()
    assert "address this invitation was sent to" in page
    assert "guest@x.test" not in page and "Org A" not in page


def test_without_email_verification_the_matching_address_is_enough(client, owner_a, org_a, outsider_b, settings):
    from allauth.account.models import EmailAddress

    settings.ACCOUNT_EMAIL_VERIFICATION = "none"  # TUNERY_EMAIL_VERIFICATION=none: no address is ever verified
    invitation = _invite(Client(), owner_a)
    guest = make_user("guest@x.test")
    EmailAddress.objects.filter(user=guest).update(verified=False)
    assert signed_in(client, outsider_b).post(f"/invitations/{invitation.token}").status_code == 403
    signed_in(client, guest).post(f"/invitations/{invitation.token}")
    assert org_a.memberships.filter(user=guest).exists()
