from tests.conftest import key_client, signed_in


def test_key_sees_its_own_organization_only(api_a, org_a, api_b, org_b):
    assert api_a.get("/v1/organization").json()["id"] == org_a.public_id
    assert api_b.get("/v1/organization").json()["id"] == org_b.public_id


def test_members_list(api_a, member_a, owner_a):
    emails = {m["email"]: m["role"] for m in api_a.get("/v1/organization/members").json()["data"]}
    assert emails == {owner_a.email: "owner", member_a.email: "member"}


def test_read_only_key_cannot_rename(org_a):
    response = key_client(org_a, scopes=["read"]).patch("/v1/organization", {"name": "x"}, format="json")
    assert response.status_code == 403


def test_session_member_uses_the_api_with_csrf(client, viewer_a, org_a):
    signed_in(client, viewer_a)
    assert client.get("/v1/organization").json()["id"] == org_a.public_id
    # a viewer's session has only the read scope
    assert client.patch("/v1/organization", {"name": "x"}, content_type="application/json").status_code == 403
