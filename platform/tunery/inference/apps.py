from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "tunery.inference"
    label = "inference"
    verbose_name = "Inference"

    def ready(self) -> None:
        from tunery.inference import deployment, model_cache  # noqa: F401  (connect to the jobs' signals)
