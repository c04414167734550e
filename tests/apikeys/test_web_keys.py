import re

from tests.conftest import signed_in
from tunery.apikeys.models import ApiKey, hash_secret


def test_created_key_is_shown_once_and_stored_hashed(client, owner_a, org_a):
    page = (
        signed_in(client, owner_a)
        .post("/settings/api-keys", {"name": "ci", "scopes": ["read", "inference"]})
        .content.decode()
    )
    secret = re.search(r'id="new-key-value">(tun_[^<]+)<', page).group(1)
    key = ApiKey.objects.get(organization=org_a, name="ci")
    assert key.secret_hash == hash_secret(secret) and secret not in str(key.__dict__)
    assert key.scopes == ["inference", "read"]
    assert secret not in client.get("/settings/api-keys").content.decode()


def test_past_expiry_is_an_inline_error(client, owner_a):
    response = signed_in(client, owner_a).post(
        "/settings/api-keys", {"name": "old", "scopes": ["read"], "expires_at": "2001-01-01T00:00"}
    )
    assert "Choose a moment in the future" in response.content.decode()
    assert not ApiKey.objects.filter(name="old").exists()


def test_revoke_from_the_web(client, owner_a, org_a):
    key, _ = ApiKey.issue(org_a, name="k", scopes=["read"])
    signed_in(client, owner_a).post(f"/settings/api-keys/{key.public_id}/revoke")
    key.refresh_from_db()
    assert key.status == "revoked"


def test_members_cannot_manage_keys(client, member_a):
    assert signed_in(client, member_a).get("/settings/api-keys").status_code == 403


def test_outsider_cannot_revoke_another_organizations_key(client, outsider_b, org_a):
    key, _ = ApiKey.issue(org_a, name="k", scopes=["read"])
    assert signed_in(client, outsider_b).post(f"/settings/api-keys/{key.public_id}/revoke").status_code == 404
    key.refresh_from_db()
    assert key.status == "active"
