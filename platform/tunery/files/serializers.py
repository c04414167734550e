from rest_framework import serializers

from tunery.api.serializers import StrictSerializer
from tunery.files.models import File

# numpy's generators take seeds from 0 up; a negative one was accepted here and failed in the worker.
SEED_RANGE = {"min_value": 0, "max_value": 2**63 - 1}


class FileSerializer(serializers.ModelSerializer):
    """OpenAI's File object, plus Tunery's version and format fields."""

    id = serializers.CharField(source="public_id")
    object = serializers.SerializerMethodField()
    created_at = serializers.SerializerMethodField()
    expires_at = serializers.SerializerMethodField()
    parent_id = serializers.SerializerMethodField()
    n_examples = serializers.IntegerField(read_only=True)

    class Meta:
        model = File
        fields = [
            "id",
            "object",
            "bytes",
            "created_at",
            "expires_at",
            "filename",
            "purpose",
            "status",
            "status_details",
            "source_format",
            "parent_id",
            "derivation",
            "n_examples",
        ]

    def get_object(self, file) -> str:
        return "file"

    def get_created_at(self, file) -> int:
        return int(file.created_at.timestamp())

    def get_expires_at(self, file) -> int | None:
        return None

    def get_parent_id(self, file) -> str | None:
        return file.parent.public_id if file.parent_id else None


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    purpose = serializers.CharField()


class ConvertSerializer(StrictSerializer):
    mapping = serializers.DictField(
        child=serializers.CharField(allow_null=True, allow_blank=True),
        help_text='{"system": col|null, "user": col, "assistant": col}',
    )
    system_prompt = serializers.CharField(required=False, allow_null=True, allow_blank=True)


class SplitSerializer(StrictSerializer):
    validation_fraction = serializers.FloatField(min_value=0.01, max_value=0.9)
    seed = serializers.IntegerField(default=0, **SEED_RANGE)
    stratify = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="null: stratify when the data is class-like"
    )


class TransformSerializer(StrictSerializer):
    redact_pii = serializers.BooleanField(default=False)
    deduplicate = serializers.BooleanField(default=False)
    shuffle_seed = serializers.IntegerField(required=False, allow_null=True, default=None, **SEED_RANGE)
    split = SplitSerializer(required=False, allow_null=True, default=None)
