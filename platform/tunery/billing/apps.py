from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "tunery.billing"
    label = "billing"
    verbose_name = "Billing"
