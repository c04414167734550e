import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from tunery.orgs.models import Organization


@pytest.mark.django_db
def test_it_prints_a_working_key_without_prompts():
    out = io.StringIO()
    call_command("create_organization", "--name", "Scripted", "--owner-email", "bot@s.test", stdout=out, stderr=io.StringIO())
    secret = out.getvalue().strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/v1/organization").json()["name"] == "Scripted"
    assert Organization.objects.get(name="Scripted").memberships.get().user.email == "bot@s.test"


@pytest.mark.django_db
def test_unknown_scope_is_refused():
    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("create_organization", "--name", "X", "--owner-email", "x@s.test", "--scopes", "root", stdout=io.StringIO())
    assert not Organization.objects.filter(name="X").exists()
