"""Request-body serializers that say no: to fields they do not declare, and to a value of the
wrong JSON type (DRF's CharField would turn `123` into "123", its IntegerField "8" into 8).

OpenAI's API answers an unknown parameter with a 400 ("Unrecognized request argument
supplied"), and so does Tunery: a misspelt field must not be ignored silently. The official
`openai` client sends only the arguments it is given, so nothing it sends on its own is
refused (tests/jobs/test_training_end_to_end.py and tests/inference/test_gateway.py use it).
"""

from collections.abc import Mapping
from datetime import UTC, datetime

from rest_framework import serializers


def refuse_unknown_fields(data, known) -> None:
    """A 400 naming the first field of the body `data` that is not in `known`: the one check
    every request body gets, also where its values are checked by hand."""
    if isinstance(data, Mapping):
        known = list(known)
        unknown = [name for name in data if name not in known]
        if unknown:
            raise serializers.ValidationError({unknown[0]: [f"unknown parameter; known ones are {', '.join(known)}."]})


# Mixed into a serializer (plain or model): refuses a field it does not declare or that is
# read-only, naming it (nested ones too: `method.dpo`). Comments, not docstrings, on these base
# classes: drf-spectacular would show a base class's docstring as every subclass's description.
class RejectUnknownFields:
    def to_internal_value(self, data):
        refuse_unknown_fields(data, self.writable_names())
        return super().to_internal_value(data)

    def writable_names(self) -> list[str]:
        return [name for name, field in self.fields.items() if not field.read_only]


class StrictSerializer(RejectUnknownFields, serializers.Serializer):
    pass


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else."""

    default_error_messages = {"invalid": "must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class AutoOr(serializers.Field):
    """`"auto"` (or null, the same), or a value of `inner`'s JSON type. Only the type is checked
    here; the ranges are the resolver's (workers.ml.hyperparameters), which names the field."""

    def __init__(self, inner: serializers.Field, **kwargs):
        self.inner = inner
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data):
        if data == "auto":
            return data
        type_ok = {
            serializers.IntegerField: lambda v: isinstance(v, int) or (isinstance(v, float) and v.is_integer()),
            serializers.FloatField: lambda v: isinstance(v, (int, float)),
        }
        for kind, check in type_ok.items():
            if isinstance(self.inner, kind) and (isinstance(data, bool) or not check(data)):
                raise serializers.ValidationError(
                    f'must be {"a whole number" if kind is serializers.IntegerField else "a number"} or "auto".'
                )
        return self.inner.run_validation(data)

    def to_representation(self, value):
        return value


class UnixTimestampField(serializers.IntegerField):
    """A moment as Unix seconds, like every other timestamp of the API (`created_at`...)."""

    default_error_messages = {"invalid": "must be a time in Unix seconds (a whole number)."}

    LATEST = 253402300799  # the end of the year 9999

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int) or not 0 <= data <= self.LATEST:
            self.fail("invalid")
        return datetime.fromtimestamp(data, tz=UTC)

    def to_representation(self, value):
        return int(value.timestamp())
