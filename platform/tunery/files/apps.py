from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "tunery.files"
    label = "files"
    verbose_name = "Files and datasets"
