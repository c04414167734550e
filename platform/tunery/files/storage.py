"""Getting at stored files from worker code that wants local paths (S3 or local folder)."""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File as DjangoFile
from django.core.files.storage import default_storage
from django.utils.text import get_valid_filename

MAX_FILENAME = 120


def sanitize_filename(name: str) -> str:
    """Only the last path component, safe characters, bounded length; the extension kept. A
    stem with nothing safe left (".jsonl", "🙂.jsonl", "...") becomes "upload"."""
    base = os.path.basename(name.replace("\\", "/")).strip()
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = _safe(stem.replace(" ", "_"))[: MAX_FILENAME - len(ext) - 1].strip(".") or "upload"
    ext = _safe(ext)[:10]
    return f"{stem}.{ext}" if ext else stem


def _safe(part: str) -> str:
    """Django's safe file name, or "" where it refuses one (empty, ".", ".." after cleaning)."""
    try:
        return get_valid_filename(part)
    except SuspiciousFileOperation:
        return ""


@contextmanager
def local_path(name: str):
    """A local path for a stored file: the file itself on local storage, else a temporary copy."""
    try:
        local = default_storage.path(name)
    except NotImplementedError:  # remote storage such as S3
        local = None
    if local:
        yield Path(local)
        return
    with tempfile.TemporaryDirectory(prefix="tunery-") as folder:
        path = Path(folder) / Path(name).name
        with default_storage.open(name, "rb") as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
        yield path


def scratch_dir():
    return tempfile.TemporaryDirectory(prefix="tunery-")


def store(file_field, filename: str, path: Path) -> None:
    """Save a local file into a model's FileField (streams, never loads it whole)."""
    with open(path, "rb") as handle:
        file_field.save(filename, DjangoFile(handle), save=False)
