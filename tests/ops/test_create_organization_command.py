import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from tunery.orgs.models import Organization


@pytest.mark.django_db
def test_it_prints_a_working_key_without_prompts():
    out = io.StringIO()
    call_command(
        "create_organization", "--name", "Scripted", "--owner-email", "bot@s.test", stdout=out, stderr=io.StringIO()
    )
    secret = out.getvalue().strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/v1/organization").json()["name"] == "Scripted"
    assert Organization.objects.get(name="Scripted").memberships.get().user.email == "bot@s.test"


@pytest.mark.django_db
def test_unknown_scope_is_refused():
    with pytest.raises(CommandError, match="Unknown scope"):
        call_command(
            "create_organization", "--name", "X", "--owner-email", "x@s.test", "--scopes", "root", stdout=io.StringIO()
        )
    assert not Organization.objects.filter(name="X").exists()


@pytest.mark.django_db
def test_seed_demo_starts_a_fine_tune_of_the_embedded_model_and_is_idempotent():
    from tunery.jobs.models import FineTuningJob

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    job = FineTuningJob.objects.get()
    assert job.base_model.name == "SmolLM2-135M-Instruct" and job.training_file.status == "processed"
    assert f"Fine-tune: {job.public_id}" in out.getvalue() and "API key: tun_" in out.getvalue()
    call_command("seed_demo", stdout=io.StringIO())
    assert FineTuningJob.objects.count() == 1 and Organization.objects.filter(slug="demo").count() == 1


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_in_production_unless_forced(settings, monkeypatch):
    from django.contrib.auth import get_user_model

    from tunery.ops.management.commands.seed_demo import Command

    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="published.*TUNERY_ENV=production.*--force"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not get_user_model().objects.exists() and not Organization.objects.exists()

    class Reached(Exception):
        pass

    def reached(self):
        raise Reached

    monkeypatch.setattr(Command, "demo_owner", reached)
    with pytest.raises(Reached):  # --force goes past the guard
        call_command("seed_demo", "--force", stdout=io.StringIO())
