"""Seed the embedded demo: a verified user, their organization, an API key, a dataset and a
fine-tune of the embedded model (queued; the demo's workers train it). With --follow, draw the
job's progress until it ends and print base vs fine-tuned scores (bin/demo).

Idempotent: running it again reuses what is there and issues a fresh key.
"""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tunery.apikeys.models import ApiKey
from tunery.files.inspection import inspect
from tunery.files.models import File
from tunery.files.services import create_upload
from tunery.jobs.catalogue import ensure_embedded_default
from tunery.jobs.models import BaseModel, FineTuningJob
from tunery.jobs.services import create_job
from tunery.ops.demo_data import demo_jsonl
from tunery.ops.follow import follow_and_report, job_url
from tunery.orgs.models import Organization
from tunery.orgs.roles import Scope
from tunery.orgs.services import create_organization

DEMO_EMAIL = "demo@tunery.local"
DEMO_PASSWORD = "tunery-demo-password"
DEMO_ORGANIZATION = "Demo"


class Command(BaseCommand):
    help = "Create (or reuse) the demo user and organization and print how to use them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--follow", action="store_true", help="follow the fine-tune until it ends (workers must be running)"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="run even with TUNERY_ENV=production (makes a staff superuser with the published password)",
        )

    def handle(self, *args, follow: bool, force: bool, **options):
        if settings.PRODUCTION and not force:
            # The demo user is a superuser whose password is in this file and the README.
            raise CommandError(
                f"seed_demo creates a staff superuser ({DEMO_EMAIL}) whose password is published, so it does not "
                "run in production (TUNERY_ENV=production). Use `manage.py create_organization` for real "
                "accounts, or pass --force on a throwaway server."
            )
        with transaction.atomic():
            user, organization = self.demo_owner()
        _, secret = ApiKey.issue(organization, name="demo", scopes=list(Scope.values), created_by=user)
        job = FineTuningJob.objects.filter(organization=organization).first() or self.start_fine_tune(organization)
        self.stdout.write(
            f"Demo organization: {organization.name}\n"
            f"Log in: {DEMO_EMAIL} / {DEMO_PASSWORD} (also an operator: /staff/, /admin/)\n"
            f"API key: {secret}\n"
            f"Fine-tune: {job.public_id} ({job.status}) — watch it live at {job_url(job)}\n"
        )
        if not follow:
            return
        succeeded = follow_and_report(job, self.stdout)
        self.stdout.write(f"Log in at {settings.SITE_URL} as {DEMO_EMAIL} / {DEMO_PASSWORD}")
        if not succeeded:
            raise CommandError(f"The demo fine-tune {job.public_id} did not succeed.")

    def demo_owner(self):
        users = get_user_model().objects
        user = users.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = users.create_user(
                username=DEMO_EMAIL, email=DEMO_EMAIL, password=DEMO_PASSWORD, is_staff=True, is_superuser=True
            )
            EmailAddress.objects.create(user=user, email=DEMO_EMAIL, verified=True, primary=True)
        organization = Organization.objects.filter(slug="demo").first() or create_organization(user, DEMO_ORGANIZATION)
        return user, organization

    def start_fine_tune(self, organization) -> FineTuningJob:
        upload = ContentFile(demo_jsonl(), name="support-tickets.jsonl")
        file = File.objects.filter(organization=organization, filename=upload.name).first()
        if file is None:
            file = create_upload(organization, upload, "fine-tune")
            inspect(file.pk, organization.pk)  # here, not on the queue: the job needs it processed
            file.refresh_from_db()
        base = ensure_embedded_default(BaseModel)
        return create_job(
            organization, {"model": base.name, "training_file": file.public_id, "suffix": "tickets", "seed": 1}
        )
