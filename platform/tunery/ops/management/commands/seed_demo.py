"""Seed the embedded demo: a verified user, their organization and an API key.

Idempotent: running it again reuses what is there and issues a fresh key.
"""
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from tunery.apikeys.models import ApiKey
from tunery.orgs.models import Organization
from tunery.orgs.roles import Scope
from tunery.orgs.services import create_organization

DEMO_EMAIL = "demo@tunery.local"
DEMO_PASSWORD = "tunery-demo-password"
DEMO_ORGANIZATION = "Demo"


class Command(BaseCommand):
    help = "Create (or reuse) the demo user and organization and print how to use them."

    @transaction.atomic
    def handle(self, *args, **options):
        users = get_user_model().objects
        user = users.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = users.create_user(username=DEMO_EMAIL, email=DEMO_EMAIL, password=DEMO_PASSWORD, is_staff=True, is_superuser=True)
            EmailAddress.objects.create(user=user, email=DEMO_EMAIL, verified=True, primary=True)
        organization = Organization.objects.filter(slug="demo").first() or create_organization(user, DEMO_ORGANIZATION)
        _, secret = ApiKey.issue(organization, name="demo", scopes=list(Scope.values), created_by=user)
        self.stdout.write(
            f"Demo organization: {organization.name}\n"
            f"Log in: {DEMO_EMAIL} / {DEMO_PASSWORD} (also an operator: /staff/, /admin/)\n"
            f"API key: {secret}\n"
        )
