"""Inspect an upload on the cpu queue: validate and analyse JSONL in one streaming pass, or
read the columns of a table that still needs a column mapping."""

import logging

from tunery.files.models import File, Status
from tunery.files.services import mark, summarize_errors, summarize_ok
from tunery.files.storage import local_path

logger = logging.getLogger(__name__)


def inspect(file_id: int, organization_id: int) -> None:
    # Tasks re-check ownership, and a redelivered message finds the work done and stops.
    file = File.objects.filter(
        pk=file_id, organization_id=organization_id, status=Status.UPLOADED, report__isnull=True
    ).first()
    if file is None:
        return
    try:
        with local_path(file.content.name) as path:
            if file.is_tabular:
                inspect_table(file, path)
            else:
                validate_into(file, path)
    except Exception:
        logger.exception("inspection of %s failed", file.public_id)
        mark(
            file,
            Status.ERROR,
            "The file could not be read. Check that it is what its extension says, then upload it again.",
        )


def validate_into(file: File, path, min_examples: int | None = None) -> None:
    """Validate and analyse a JSONL file against the default base model's tokenizer and limit
    (a job re-checks the length limit of the base model it picks)."""
    from workers.ml.base_models import EMBEDDED_DEFAULT, load_tokenizer
    from workers.ml.data.validate import MIN_EXAMPLES, validate_and_analyse

    report = validate_and_analyse(
        path,
        tokenizer=load_tokenizer(EMBEDDED_DEFAULT),
        max_seq_len=EMBEDDED_DEFAULT.max_seq_len,
        min_examples=min_examples or MIN_EXAMPLES,
    ).to_dict()
    if report["status"] == "ok":
        mark(file, Status.PROCESSED, summarize_ok(report), report)
    else:
        mark(file, Status.ERROR, summarize_errors(report), report)


def inspect_table(file: File, path) -> None:
    from workers.ml.data.convert import preview

    table = preview(path, file.source_format)
    if table.errors:
        first = table.errors[0]
        report = {"errors": table.errors, "error_counts": {first["code"]: 1}, "errors_truncated": False}
        mark(file, Status.ERROR, first["message"], report)
        return
    rows = [[row.get(column, "") for column in table.columns] for row in table.rows]
    report = {"preview": {"columns": table.columns, "rows": rows, "suggested_mapping": table.suggested_mapping}}
    mark(
        file,
        Status.UPLOADED,
        "Choose which columns hold the prompt and the answer to convert it to chat JSONL.",
        report,
    )
