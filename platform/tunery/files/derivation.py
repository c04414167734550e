"""New immutable versions of a dataset: conversion from a table, PII redaction,
deduplication, shuffling and a train/validation split. The source file is never changed.

The API creates the target rows first (status `uploaded`) so it can answer with their ids at
once; this module fills them in on the cpu queue and inspects each result.
"""

import logging
from pathlib import Path

from django.db import transaction

from tunery.files.inspection import validate_into
from tunery.files.models import File, Status
from tunery.files.services import mark, summarize_errors
from tunery.files.storage import local_path, scratch_dir, store

logger = logging.getLogger(__name__)


class ConversionFailed(Exception):
    """Rows of the table could not become examples; the report lists them by row and column."""

    def __init__(self, report: dict):
        super().__init__(report)
        self.report = report


def derive(source_id: int, organization_id: int, target_ids: list[int], operation: dict) -> None:
    source = File.objects.filter(pk=source_id, organization_id=organization_id).first()
    targets = list(
        File.objects.filter(
            pk__in=target_ids, organization_id=organization_id, status=Status.UPLOADED, report__isnull=True
        )
    )
    targets.sort(key=lambda f: target_ids.index(f.pk))
    if source is None or len(targets) != len(target_ids):
        return  # deleted meanwhile, or a redelivered message whose work is done
    from workers.ml.errors import TrainingError

    try:
        with local_path(source.content.name) as src, scratch_dir() as scratch:
            outputs = run_operation(Path(src), Path(scratch), source, operation)
            with transaction.atomic():
                for target, output in zip(targets, outputs):
                    store(target.content, target.filename, output)
                    target.bytes = output.stat().st_size
                    target.save(update_fields=["content", "bytes"])
            for index, target in enumerate(targets):
                # The validation half of a split may be small; only training needs 10 examples.
                is_validation_half = index == 1 and operation.get("split")
                with local_path(target.content.name) as path:
                    validate_into(target, path, min_examples=1 if is_validation_half else None)
    except ConversionFailed as failure:
        for target in targets:
            mark(target, Status.ERROR, summarize_errors(failure.report), failure.report)
    except TrainingError as error:
        for target in targets:
            mark(target, Status.ERROR, error.message, {"errors": [error.to_dict()], "error_counts": {error.code: 1}})
    except Exception:
        logger.exception("deriving from %s failed", source.public_id)
        for target in targets:
            mark(target, Status.ERROR, "Preparing this version failed on our side; try again.")


def run_operation(src: Path, scratch: Path, source: File, operation: dict) -> list[Path]:
    from workers.ml.data import transform
    from workers.ml.data.convert import convert_to_chat_jsonl
    from workers.ml.data.pii import redact_pii

    if operation["kind"] == "convert":
        out = scratch / "converted.jsonl"
        result = convert_to_chat_jsonl(src, out, source_format=source.source_format, mapping=operation["mapping"])
        if result.status != "ok":
            raise ConversionFailed(result.to_dict())
        return [out]

    current = src
    if operation.get("redact_pii"):
        redact_pii(current, scratch / "redacted.jsonl")
        current = scratch / "redacted.jsonl"
    if operation.get("deduplicate"):
        transform.deduplicate(current, scratch / "deduplicated.jsonl")
        current = scratch / "deduplicated.jsonl"
    if operation.get("shuffle_seed") is not None:
        transform.shuffle(current, scratch / "shuffled.jsonl", seed=operation["shuffle_seed"])
        current = scratch / "shuffled.jsonl"
    split = operation.get("split")
    if split:
        train, validation = scratch / "train.jsonl", scratch / "validation.jsonl"
        transform.split(
            current,
            train,
            validation,
            validation_fraction=split["validation_fraction"],
            seed=split.get("seed", 0),
            stratify=split.get("stratify"),
        )
        return [train, validation]
    return [current]
