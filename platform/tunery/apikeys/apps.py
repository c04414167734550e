from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "tunery.apikeys"
    label = "apikeys"
    verbose_name = "API keys"

    def ready(self) -> None:
        from tunery.apikeys import key_cache

        key_cache.connect_signals()
