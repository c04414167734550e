from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "tunery.ops"
    label = "ops"
    verbose_name = "Operations"
