from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "tunery.orgs"
    label = "orgs"
    verbose_name = "Organizations"

    def ready(self) -> None:
        from tunery.orgs import signals  # noqa: F401  (connects the sign-up handler)
