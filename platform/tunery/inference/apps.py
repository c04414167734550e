from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "tunery.inference"
    label = "inference"
    verbose_name = "Inference"
