from dataclasses import dataclass, field

from tunery.orgs.models import Organization


@dataclass(frozen=True)
class Principal:
    """Who is calling the API: an API key or a signed-in member, always within one organization."""

    organization: Organization
    scopes: frozenset[str]
    user: object | None = None
    api_key: object | None = field(default=None, repr=False)

    is_authenticated = True
    is_anonymous = False

    @property
    def pk(self):  # throttling and logging read request.user.pk
        return f"key:{self.api_key.pk}" if self.api_key else f"user:{self.user.pk}"
