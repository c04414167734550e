"""File workflows: upload, inspect (validate and analyse), derive new versions, delete."""

from django.db import transaction

from tunery.api.errors import RefusedRequest
from tunery.files.models import File, Purpose, SourceFormat
from tunery.files.storage import sanitize_filename
from tunery.public_ids import new_public_id

FORMAT_BY_EXTENSION = {
    "jsonl": SourceFormat.JSONL,
    "csv": SourceFormat.CSV,
    "tsv": SourceFormat.TSV,
    "xlsx": SourceFormat.XLSX,
    "json": SourceFormat.JSON,
}
UPLOADABLE_PURPOSES = {Purpose.FINE_TUNE}


class FileError(RefusedRequest):
    """A request about files that cannot be honoured."""


SUPPORTED = "upload chat or prompt/completion .jsonl, or .csv, .tsv, .xlsx or .json to convert with a column mapping."


def source_format_of(filename: str, as_sent: str | None = None) -> str:
    """The format the (sanitized) name's extension says; `as_sent`, the name the client sent,
    is what the error quotes."""
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    if not extension:
        raise FileError(
            f"The file name “{(as_sent or filename)[:120]}” has no extension, so its type is unknown: {SUPPORTED}",
            param="file",
            code="unsupported_file_type",
        )
    try:
        return FORMAT_BY_EXTENSION[extension]
    except KeyError:
        raise FileError(
            f"Unsupported file type “.{extension[:20]}” ({(as_sent or filename)[:120]}): {SUPPORTED}",
            param="file",
            code="unsupported_file_type",
        )


def create_upload(organization, uploaded, purpose: str) -> File:
    """Store an upload and queue its inspection. The stored bytes and the row appear together
    or not at all."""
    if purpose not in UPLOADABLE_PURPOSES:
        raise FileError(f"purpose must be 'fine-tune', got {purpose!r}.", param="purpose")
    filename = sanitize_filename(uploaded.name or "upload.jsonl")
    file = File(
        organization=organization,
        filename=filename,
        bytes=uploaded.size,
        purpose=purpose,
        source_format=source_format_of(filename, as_sent=uploaded.name),
    )
    file.public_id = new_public_id("file")  # the storage path needs it before the row exists
    file.content.save(filename, uploaded, save=False)
    try:
        with transaction.atomic():
            file.save()
            transaction.on_commit(lambda: queue_inspection(file))
    except Exception:
        file.content.delete(save=False)
        raise
    return file


def queue_inspection(file: File) -> None:
    from tunery.files.tasks import inspect_file

    inspect_file.delay(file.pk, file.organization_id)


def delete_file(file: File) -> None:
    name = file.content.name
    file.delete()
    if name:
        transaction.on_commit(lambda: file.content.storage.delete(name))


def mark(file: File, status: str, details: str = "", report: dict | None = None) -> None:
    File.objects.filter(pk=file.pk).update(status=status, status_details=details, report=report)
    file.status, file.status_details, file.report = status, details, report


def summarize_errors(report: dict) -> str:
    """One sentence for `status_details`: how many problems and the first few, by line."""
    total = sum(report["error_counts"].values())
    shown = [(f"line {e['line']}: " if e.get("line") else "") + e["message"] for e in report["errors"][:3]]
    return f"{total} problem{'s' if total != 1 else ''} found — " + "; ".join(shown)


def summarize_ok(report: dict) -> str:
    return f"{report['n_examples']} examples, {report['stats'].get('total_tokens', 0)} tokens."


def request_conversion(source: File, mapping: dict, system_prompt: str | None = None) -> File:
    """Queue the conversion of a table into chat JSONL with a column mapping."""
    if not source.is_tabular:
        raise FileError(
            f"{source.public_id} is already JSONL; only CSV, TSV, XLSX and JSON files are converted.", param="file_id"
        )
    columns = ((source.report or {}).get("preview") or {}).get("columns")
    if columns is None:
        raise FileError(
            f"{source.public_id} is still being read, or could not be read; see its status_details.",
            param="file_id",
            code="file_not_ready",
            status=409,
        )
    if not isinstance(mapping, dict):
        raise FileError(
            'mapping must be an object such as {"user": "question", "assistant": "answer"}.', param="mapping"
        )
    for role in ("user", "assistant"):
        if not mapping.get(role):
            raise FileError(
                f"mapping.{role} must name the column that holds the {role} message.", param=f"mapping.{role}"
            )
    for role, column in mapping.items():
        if role not in ("system", "user", "assistant"):
            raise FileError(
                f"mapping has an unknown role {role!r}: use system, user and assistant.", param=f"mapping.{role}"
            )
        if column and column not in columns:
            raise FileError(
                f"mapping.{role}: there is no column {column!r}; the columns are {', '.join(map(str, columns))}.",
                param=f"mapping.{role}",
            )
    if system_prompt is not None and not isinstance(system_prompt, str):
        raise FileError("system_prompt must be a string.", param="system_prompt")
    stem = source.filename.rpartition(".")[0] or source.filename
    operation = {"kind": "convert", "mapping": {**mapping, "system_prompt": system_prompt or None}}
    return _queue_derivation(source, [f"{stem}.jsonl"], operation, f"converted from {source.filename}")[0]


def request_transform(
    source: File, *, redact_pii=False, deduplicate=False, shuffle_seed=None, split=None
) -> list[File]:
    """Queue a new version: redact → deduplicate → shuffle → split (each step optional)."""
    if source.is_tabular or source.status != "processed":
        raise FileError(
            f"{source.public_id} must be a processed JSONL file (its status is {source.status}).",
            param="file_id",
            code="file_not_ready",
            status=409,
        )
    steps = [
        name
        for name, on in (
            ("PII redacted", redact_pii),
            ("deduplicated", deduplicate),
            (f"shuffled (seed {shuffle_seed})", shuffle_seed is not None),
        )
        if on
    ]
    if split:
        fraction = split.get("validation_fraction")
        if not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
            raise FileError(
                "split.validation_fraction must be a number between 0 and 1, e.g. 0.1.",
                param="split.validation_fraction",
            )
        steps.append(f"split {1 - fraction:.0%}/{fraction:.0%}")
    if not steps:
        raise FileError("Choose at least one of redact_pii, deduplicate, shuffle_seed or split.", param="operation")
    stem = source.filename.rpartition(".")[0] or source.filename
    names = [f"{stem}.train.jsonl", f"{stem}.validation.jsonl"] if split else [f"{stem}.v2.jsonl"]
    operation = {
        "kind": "transform",
        "redact_pii": redact_pii,
        "deduplicate": deduplicate,
        "shuffle_seed": shuffle_seed,
        "split": split,
    }
    return _queue_derivation(source, names, operation, ", ".join(steps) + f" from {source.filename}")


def _queue_derivation(source: File, names: list[str], operation: dict, derivation: str) -> list[File]:
    from tunery.files.tasks import derive_files

    with transaction.atomic():
        targets = [
            File.objects.create(
                organization=source.organization,
                filename=name,
                bytes=0,
                purpose=source.purpose,
                parent=source,
                derivation=derivation,
                status_details="Being prepared…",
            )
            for name in names
        ]
        ids = [t.pk for t in targets]
        transaction.on_commit(lambda: derive_files.delay(source.pk, source.organization_id, ids, operation))
    return targets
