from django.contrib.auth import get_user_model

from tests.conftest import signed_in
from tunery.apikeys.models import ApiKey


def _staff(db):
    return get_user_model().objects.create_superuser("op@tunery.test", "op@tunery.test", "an operator passphrase")


def test_staff_overview_counts_tenants(client, db, owner_a, outsider_b):
    page = signed_in(client, _staff(db)).get("/staff/").content.decode()
    assert "owner@a.test" in page and "Org B" in page


def test_overview_is_staff_only(client, owner_a):
    response = signed_in(client, owner_a).get("/staff/")
    assert response.status_code == 302 and "/admin/login" in response.url


def test_admin_searches_organizations_and_never_shows_key_secrets(client, db, org_a, org_b):
    key, secret = ApiKey.issue(org_a, name="prod", scopes=["read"])
    signed_in(client, _staff(db))
    listing = client.get("/admin/orgs/organization/", {"q": "owner@a.test"}).content.decode()
    assert ">Org A<" in listing and ">Org B<" not in listing
    detail = client.get(f"/admin/apikeys/apikey/{key.pk}/change/").content.decode()
    assert secret not in detail and key.secret_hash not in detail and key.redacted in detail
    assert client.get("/admin/apikeys/apikey/", {"revoked_at__isnull": "True"}).status_code == 200
