import pytest

from tests.conftest import signed_in
from tunery.orgs.middleware import SESSION_KEY
from tunery.orgs.models import Membership, Organization


def test_member_creates_an_organization_and_it_becomes_active(client, member_a):
    signed_in(client, member_a)
    response = client.post("/organizations/new", {"name": "Side project"})
    organization = Organization.objects.get(name="Side project")
    assert response.status_code == 302
    assert organization.memberships.get(user=member_a).role == "owner"
    assert client.session[SESSION_KEY] == organization.public_id


def test_create_form_shows_inline_error_for_empty_name(client, owner_a):
    response = signed_in(client, owner_a).post("/organizations/new", {"name": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()


def test_switch_changes_the_active_organization(client, member_a, org_a):
    other = Organization.objects.create(name="Other")
    Membership.objects.create(organization=other, user=member_a, role="viewer")
    signed_in(client, member_a).post("/organizations/switch", {"organization": other.public_id})
    assert "Other" in client.get("/").content.decode().split("<h1>")[1]


def test_switch_to_someone_elses_organization_is_404(client, member_a, org_b):
    response = signed_in(client, member_a).post("/organizations/switch", {"organization": org_b.public_id})
    assert response.status_code == 404


def test_admin_renames_and_viewer_cannot(client, owner_a, viewer_a, org_a):
    signed_in(client, viewer_a)
    assert client.post("/settings/organization/rename", {"name": "Hacked"}).status_code == 403
    signed_in(client, owner_a).post("/settings/organization/rename", {"name": "Renamed"})
    org_a.refresh_from_db()
    assert org_a.name == "Renamed"


def test_last_owner_cannot_leave(client, owner_a, org_a):
    response = signed_in(client, owner_a).post("/settings/organization/leave", follow=True)
    assert "last owner" in response.content.decode()
    assert org_a.memberships.filter(user=owner_a).exists()


def test_member_can_leave(client, member_a, org_a):
    signed_in(client, member_a).post("/settings/organization/leave")
    assert not org_a.memberships.filter(user=member_a).exists()


def test_transfer_ownership_then_the_old_owner_can_leave(client, owner_a, member_a, org_a):
    target = org_a.memberships.get(user=member_a)
    signed_in(client, owner_a).post(f"/settings/organization/members/{target.public_id}/make-owner")
    assert org_a.memberships.get(user=member_a).role == "owner"
    assert org_a.memberships.get(user=owner_a).role == "admin"
    client.post("/settings/organization/leave")
    assert not org_a.memberships.filter(user=owner_a).exists()


def test_admin_changes_role_and_removes_member(client, owner_a, member_a, org_a):
    target = org_a.memberships.get(user=member_a)
    signed_in(client, owner_a)
    client.post(f"/settings/organization/members/{target.public_id}/role", {"role": "viewer"})
    assert Membership.objects.get(pk=target.pk).role == "viewer"
    client.post(f"/settings/organization/members/{target.public_id}/remove")
    assert not Membership.objects.filter(pk=target.pk).exists()


def test_member_cannot_remove_others(client, member_a, owner_a, org_a):
    owner = org_a.memberships.get(user=owner_a)
    assert (
        signed_in(client, member_a).post(f"/settings/organization/members/{owner.public_id}/remove").status_code == 403
    )


@pytest.mark.parametrize("action", ["role", "remove", "make-owner"])
def test_outsider_gets_404_for_another_organizations_member(client, outsider_b, member_a, org_a, action):
    target = org_a.memberships.get(user=member_a)
    response = signed_in(client, outsider_b).post(
        f"/settings/organization/members/{target.public_id}/{action}", {"role": "viewer"}
    )
    assert response.status_code == 404
    assert Membership.objects.get(pk=target.pk).role == "member"


def test_settings_page_lists_members_to_viewers_without_controls(client, viewer_a, owner_a):
    page = signed_in(client, viewer_a).get("/settings/organization").content.decode()
    assert owner_a.email in page and "Send invitation" not in page


def test_user_without_organization_is_sent_to_create_one(client, member_a, org_a):
    org_a.memberships.filter(user=member_a).delete()
    response = signed_in(client, member_a).get("/")
    assert response.status_code == 302 and response.url == "/organizations/new"


@pytest.mark.parametrize("next_url", ["https://evil.example/x", "//evil.example/x", "/\\evil.example/x"])
def test_switch_does_not_redirect_to_another_site(client, member_a, org_a, next_url):
    response = signed_in(client, member_a).post(
        "/organizations/switch", {"organization": org_a.public_id, "next": next_url}
    )
    assert response.status_code == 302 and response.url == "/"


def test_switch_returns_to_the_page_it_came_from(client, member_a, org_a):
    response = signed_in(client, member_a).post(
        "/organizations/switch", {"organization": org_a.public_id, "next": "/jobs?page=2"}
    )
    assert response.url == "/jobs?page=2"
