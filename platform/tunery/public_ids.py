"""Opaque public identifiers (`org-…`, `file-…`, `ftjob-…`): integer keys never leave the database."""

import secrets
import string

from django.db import models

_ALPHABET = string.ascii_letters + string.digits


def new_public_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}-" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


class PublicIdField(models.CharField):
    """A unique `prefix-<random>` id, assigned on first save unless set before."""

    def __init__(self, prefix: str, **kwargs):
        self.prefix = prefix
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("editable", False)
        super().__init__(**kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["prefix"] = self.prefix
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        if not getattr(model_instance, self.attname):
            setattr(model_instance, self.attname, new_public_id(self.prefix))
        return super().pre_save(model_instance, add)
