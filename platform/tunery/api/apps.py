from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "tunery.api"
    label = "api"

    def ready(self) -> None:
        from tunery.api import schema  # noqa: F401  (registers OpenAPI extensions)
