from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "tunery.apikeys"
    label = "apikeys"
    verbose_name = "API keys"
