"""Getting at stored files from worker code that wants local paths (S3 or local folder)."""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.core.files import File as DjangoFile
from django.core.files.storage import default_storage
from django.utils.text import get_valid_filename

MAX_FILENAME = 120


def sanitize_filename(name: str) -> str:
    """Only the last path component, safe characters, bounded length; the extension kept."""
    base = os.path.basename(name.replace("\\", "/")).strip() or "upload"
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = get_valid_filename(stem.replace(" ", "_"))[: MAX_FILENAME - len(ext) - 1] or "upload"
    ext = get_valid_filename(ext)[:10] if ext else ""
    return f"{stem}.{ext}" if ext else stem


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
