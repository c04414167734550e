"""What a file really is, judged from its first bytes rather than its name.

Users rename files, spreadsheets export with the wrong extension, and a truncated upload can
be anything; every entry point checks content before trusting the declared format.
"""

from __future__ import annotations

from typing import Literal

HEAD_BYTES = 64 * 1024
UTF8_BOM = b"\xef\xbb\xbf"

Kind = Literal["xlsx", "binary", "utf16", "json_array", "jsonl", "text", "empty"]

# Magic numbers of formats people upload by mistake; named so the message can say what it was.
_MAGIC: list[tuple[bytes, str]] = [
    (b"PK\x03\x04", "a ZIP archive (or Excel workbook)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\xd0\xcf\x11\xe0", "a legacy Office document (.xls/.doc)"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3", "an SQLite database"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"BZh", "a bzip2 archive"),
]


def describe_binary(head: bytes) -> str | None:
    """A human name for a binary format, or None when ``head`` looks like text."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    # NUL never occurs in UTF-8 text; other control bytes are rare in JSON/CSV.
    sample = head[:8192]
    if b"\x00" in sample:
        return "binary data"
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13, 12))
    if sample and controls / len(sample) > 0.05:
        return "binary data"
    return None


def sniff(head: bytes) -> Kind:
    """Classify the first bytes of a file (see HEAD_BYTES)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf16"
    if head.startswith(b"PK\x03\x04") and (b"[Content_Types].xml" in head or b"xl/" in head):
        return "xlsx"
    if describe_binary(head):
        return "binary"
    text = head.removeprefix(UTF8_BOM).lstrip()
    if not text:
        return "empty"
    if text.startswith(b"["):
        return "json_array"
    if text.startswith(b"{"):
        return "jsonl"
    return "text"


def read_head(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(HEAD_BYTES)
