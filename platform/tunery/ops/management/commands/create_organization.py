"""Create an organization, its owner and an API key without prompts; print the key.

For scripts, the demo and acceptance tests:
    ./manage.py create_organization --name Acme --owner-email ada@acme.test
"""

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tunery.apikeys.models import ApiKey
from tunery.orgs.roles import Scope
from tunery.orgs.services import create_organization


class Command(BaseCommand):
    help = "Create an organization with an owner and an API key, and print the key."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-password", help="Lets the owner log in on the web; omit for API-only use.")
        parser.add_argument("--key-name", default="default")
        parser.add_argument(
            "--scopes", default=",".join(Scope.values), help="Comma-separated: " + ", ".join(Scope.values)
        )

    @transaction.atomic
    def handle(self, *args, name, owner_email, owner_password, key_name, scopes, **options):
        scopes = [s.strip() for s in scopes.split(",") if s.strip()]
        if set(scopes) - set(Scope.values):
            raise CommandError(f"Unknown scope in {scopes}; choose from {', '.join(Scope.values)}.")
        users = get_user_model().objects
        user = users.filter(email__iexact=owner_email).first()
        if user is None:
            user = users.create_user(username=owner_email.lower(), email=owner_email.lower(), password=owner_password)
            # Created by an operator, so the address counts as verified.
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        organization = create_organization(user, name)
        key, secret = ApiKey.issue(organization, name=key_name, scopes=scopes, created_by=user)
        self.stderr.write(f"Created {organization.name} ({organization.slug}) owned by {user.email}")
        self.stdout.write(secret)
