"""Reading a dataset line by line from a path or binary stream, with memory bounded per line.

``readline(limit)`` never returns more than ``limit`` bytes, so one giant line (a minified
JSON dump, a binary blob without newlines) is detected and skipped in bounded chunks instead
of being read whole.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO, Union

from workers.ml.data.sniff import HEAD_BYTES, UTF8_BOM

# A path, or an open binary file object with readline(size), read(), seek() and tell() (a
# Django File, an open() handle, BytesIO...). Streams are not closed: their owner closes them.
Source = Union[str, "os.PathLike[str]", BinaryIO]

DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024
_DRAIN_CHUNK = 1024 * 1024


@contextmanager
def open_source(source: Source) -> Iterator[BinaryIO]:
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            yield handle
    else:
        yield source


def peek_head(stream: BinaryIO) -> bytes:
    """The first bytes from the current position, leaving the position unchanged."""
    start = stream.tell()
    head = stream.read(HEAD_BYTES)
    stream.seek(start)
    return head


def iter_lines(
    stream: BinaryIO, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
) -> Iterator[tuple[int, int, bytes | None]]:
    """Yield ``(line_number, offset, raw_line)``: 1-based number, byte offset of the line in
    the stream, and its bytes, or None for a line longer than ``max_line_bytes`` (skipped in
    chunks, never held). A UTF-8 BOM at the start is dropped; line endings are left on."""
    number = 0
    offset = stream.tell()
    while True:
        chunk = stream.readline(max_line_bytes + 1)
        if not chunk:
            return
        number += 1
        start = offset
        offset += len(chunk)
        if number == 1 and chunk.startswith(UTF8_BOM):
            chunk = chunk[len(UTF8_BOM) :]
            start += len(UTF8_BOM)
        if len(chunk) > max_line_bytes and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):
                chunk = stream.readline(_DRAIN_CHUNK)
                offset += len(chunk)
            yield number, start, None
            continue
        yield number, start, chunk
