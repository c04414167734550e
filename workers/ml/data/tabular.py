"""Reading rows out of CSV, TSV, XLSX, JSON-array and JSONL files, streaming and bounded.

Every reader yields ``(row_number, {column: value})`` where the number is what the user sees
in their tool: the line in a text file (the header is line 1), the row in Excel. Problems that
make the rest of the file unreadable raise ``Unreadable``; per-row problems are left to the
caller.

- CSV/TSV: the csv module over a line reader that caps line length; memory is one row.
- XLSX: the archive is checked before openpyxl opens it (zip bomb guard: declared sizes,
  which zipfile enforces while decompressing, and compression ratios), then read with
  ``read_only=True`` so rows stream from the sheet XML; rows and columns are capped.
- JSON arrays: streamed element by element with ``JSONDecoder.raw_decode`` over a sliding
  buffer, so memory is bounded by the largest element, not the file.
- JSONL: one object per line.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import json
import re
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from workers.ml.data.lines import DEFAULT_MAX_LINE_BYTES, iter_lines
from workers.ml.data.sniff import describe_binary, read_head, sniff

SourceFormat = Literal["csv", "tsv", "xlsx", "json", "jsonl"]
SOURCE_FORMATS: tuple[SourceFormat, ...] = ("csv", "tsv", "xlsx", "json", "jsonl")
# (row number, record): a dict for a readable row, UNDECODABLE for a row whose bytes are not
# UTF-8, or for JSON sources whatever value the element was (the converter reports non-objects).
Row = tuple[int, Any]
UNDECODABLE = object()


@dataclass(frozen=True)
class Limits:
    max_rows: int = 1_000_000
    max_columns: int = 200  # columns beyond this are ignored
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES  # CSV line, JSON element, JSONL line
    max_uncompressed_bytes: int = 512 * 1024 * 1024  # whole XLSX archive, as declared
    max_compression_ratio: int = 200  # per archive member; real sheets compress ~10-30x
    max_archive_members: int = 10_000


class Unreadable(Exception):
    """The file cannot be read further; ``code`` is one of issues.ISSUE_CODES."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line


def detect_format(path: str, declared: SourceFormat | None = None) -> SourceFormat:
    """The format of ``path`` judged by content; ``declared`` (e.g. from the file extension or
    the user's choice) is checked against it, and CSV vs TSV is taken from it when given."""
    head = read_head(path)
    kind = sniff(head)
    if kind == "empty":
        raise Unreadable("empty_file", "The file is empty.")
    if kind == "utf16":
        raise Unreadable("invalid_utf8", "The file is UTF-16 encoded; save it as UTF-8.", 1)
    if kind == "binary":
        raise Unreadable("binary_file", f"The file is {describe_binary(head)}, not a dataset.")
    found: SourceFormat
    if kind == "xlsx":
        found = "xlsx"
    elif kind == "json_array":
        found = "json"
    elif kind == "jsonl":
        found = "jsonl"
    else:
        first_line = head.split(b"\n", 1)[0]
        found = "tsv" if first_line.count(b"\t") > first_line.count(b",") else "csv"
    if declared is None or declared == found or {declared, found} == {"csv", "tsv"}:
        return declared or found
    names = {"xlsx": "an Excel workbook", "json": "a JSON array", "jsonl": "JSON Lines", "csv": "CSV", "tsv": "TSV"}
    raise Unreadable("wrong_format", f"The file was given as {declared.upper()} but its content is {names[found]}.")


def iter_rows(path: str, source_format: SourceFormat, limits: Limits) -> tuple[list[str], Generator[Row, None, None]]:
    """Column names (from the header, or from the first object for JSON) and the data rows.

    The iterator raises Unreadable when the rest of the file cannot be read and stops after
    ``limits.max_rows`` rows by raising Unreadable("too_many_rows").
    """
    if source_format == "xlsx":
        return _xlsx_rows(path, limits)
    if source_format in ("csv", "tsv"):
        return _delimited_rows(path, "\t" if source_format == "tsv" else ",", limits)
    rows = _json_array_rows(path, limits) if source_format == "json" else _jsonl_rows(path, limits)
    first = next(rows, None)
    columns = list(first[1]) if first and isinstance(first[1], dict) else []

    def replay() -> Iterator[Row]:
        if first:
            yield first
        yield from rows

    return columns, _capped(replay(), limits)


def _capped(rows: Iterator[Row], limits: Limits) -> Generator[Row, None, None]:
    for count, row in enumerate(rows, start=1):
        if count > limits.max_rows:
            raise Unreadable("too_many_rows", f"The file has more than {limits.max_rows} rows.", row[0])
        yield row


def _column_names(header: list[Any]) -> list[str]:
    """Header cells as unique, non-empty names (blank headers become column_3, repeats get _2)."""
    names: list[str] = []
    for index, cell in enumerate(header, start=1):
        name = str(cell).strip() if cell is not None else ""
        name = name or f"column_{index}"
        base, suffix = name, 2
        while name in names:
            name, suffix = f"{base}_{suffix}", suffix + 1
        names.append(name)
    return names


def _delimited_rows(path: str, delimiter: str, limits: Limits) -> tuple[list[str], Generator[Row, None, None]]:
    handle = open(path, "rb")
    bad_lines: set[int] = set()
    line_number = 0
    name = "TSV" if delimiter == "\t" else "CSV"

    def text_lines() -> Iterator[str]:
        nonlocal line_number
        for number, _, raw in iter_lines(handle, limits.max_line_bytes):
            line_number = number
            if raw is None:
                raise Unreadable("line_too_long", f"Line {number} is longer than the per-line limit.", number)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                bad_lines.add(number)
                yield raw.decode("utf-8", "replace")

    reader = csv.reader(text_lines(), delimiter=delimiter)

    def records() -> Iterator[tuple[int, Any]]:
        """Records with the line they start on (a quoted cell can span lines)."""
        try:
            while True:
                start = line_number + 1
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    code = "line_too_long" if "field larger" in str(exc) else "wrong_format"
                    raise Unreadable(code, f"Not valid {name} at line {start}: {exc}.", start) from None
                if bad_lines:
                    undecodable = any(number in bad_lines for number in range(start, line_number + 1))
                    bad_lines.clear()
                    if undecodable:
                        yield start, UNDECODABLE
                        continue
                yield start, values
        finally:
            handle.close()

    stream = records()
    first = next(stream, None)
    if first is None:
        raise Unreadable("empty_file", "The file is empty.")
    if first[1] is UNDECODABLE:
        stream.close()
        raise Unreadable("invalid_utf8", "The header line is not valid UTF-8; save the file as UTF-8.", 1)
    columns = _column_names(first[1][: limits.max_columns])

    def rows() -> Iterator[Row]:
        for start, values in stream:
            if values is UNDECODABLE:
                yield start, values
            elif any(value.strip() for value in values):
                yield start, dict(zip(columns, values))

    return columns, _capped(rows(), limits)


def check_archive(path: str, limits: Limits) -> None:
    """Refuse a zip bomb before any XML is parsed, from the sizes in the central directory."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise Unreadable("wrong_format", "The file is not a valid Excel workbook (.xlsx).") from None
    if len(members) > limits.max_archive_members:
        raise Unreadable("file_too_large", f"The workbook has {len(members)} parts; that is not a normal spreadsheet.")
    total = sum(member.file_size for member in members)
    if total > limits.max_uncompressed_bytes:
        raise Unreadable(
            "file_too_large",
            f"The workbook unpacks to {total / 2**20:.0f} MiB; "
            f"the limit is {limits.max_uncompressed_bytes / 2**20:.0f} MiB.",
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 1024 * 1024 and ratio > limits.max_compression_ratio:
            raise Unreadable(
                "file_too_large",
                f"The workbook part {member.filename} is compressed {ratio:.0f}:1, which only a zip bomb does.",
            )


def _xlsx_rows(path: str, limits: Limits) -> tuple[list[str], Generator[Row, None, None]]:
    import openpyxl

    check_archive(path, limits)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types (KeyError, InvalidFileException...)
        raise Unreadable("wrong_format", f"The workbook could not be opened: {exc}.") from None
    sheet = workbook.worksheets[0]
    # Declared dimensions can be wrong (or hostile: A1:XFD1048576); size rows by their cells.
    sheet.reset_dimensions()
    cells = sheet.iter_rows(max_col=limits.max_columns, values_only=True)
    header: Row | None = None
    for number, values in enumerate(cells, start=1):
        filled = [i for i, value in enumerate(values) if value not in (None, "")]
        if filled:
            # Rows come padded to max_col; the header ends at its last filled cell.
            header = (number, _column_names(list(values[: filled[-1] + 1])))
            break
    if header is None:
        workbook.close()
        raise Unreadable("empty_file", "The first worksheet is empty.")
    columns = header[1]

    def rows() -> Iterator[Row]:
        try:
            for number, values in enumerate(cells, start=header[0] + 1):
                if any(value not in (None, "") for value in values):
                    yield number, dict(zip(columns, values))
        finally:
            workbook.close()

    return columns, _capped(rows(), limits)


_WHITESPACE = re.compile(r"[ \t\r\n]*")
_CHUNK_CHARS = 1024 * 1024


def _json_array_rows(path: str, limits: Limits) -> Iterator[Row]:
    """Elements of a top-level JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    with open(path, "rb") as raw:
        text = codecs.getreader("utf-8-sig")(raw)
        buffer, pos, line, eof = "", 0, 1, False

        def fill() -> None:
            nonlocal buffer, pos, eof
            try:
                chunk = text.read(_CHUNK_CHARS)
            except UnicodeDecodeError:
                raise Unreadable(
                    "invalid_utf8", f"Invalid UTF-8 near line {line}; save the file as UTF-8.", line
                ) from None
            eof = not chunk
            buffer, pos = buffer[pos:] + chunk, 0

        def skip_whitespace() -> None:
            nonlocal pos, line
            while True:
                end = _WHITESPACE.match(buffer, pos).end()  # type: ignore[union-attr]
                line += buffer.count("\n", pos, end)
                pos = end
                if pos < len(buffer) or eof:
                    return
                fill()

        def expect(allowed: str) -> str:
            nonlocal pos
            skip_whitespace()
            if pos >= len(buffer):
                raise Unreadable("invalid_json", "The file ends before the JSON array is closed (truncated?).", line)
            char = buffer[pos]
            if char not in allowed:
                wanted = " or ".join(repr(c) for c in allowed)
                raise Unreadable("invalid_json", f"Expected {wanted} at line {line}, found {char!r}.", line)
            pos += 1
            return char

        expect("[")
        skip_whitespace()
        if buffer[pos : pos + 1] == "]":
            return
        while True:
            skip_whitespace()
            start_line = line
            while True:
                try:
                    value, end = decoder.raw_decode(buffer, pos)
                    break
                except json.JSONDecodeError as exc:
                    # Either the element continues past the buffer, or it is broken: read on
                    # until the end of the file or the element size limit decides which.
                    if eof or len(buffer) - pos > limits.max_line_bytes:
                        where = start_line + buffer.count("\n", pos, exc.pos)
                        raise Unreadable("invalid_json", f"Not valid JSON at line {where}: {exc.msg}.", where) from None
                    fill()
            line += buffer.count("\n", pos, end)
            pos = end
            yield start_line, value
            if expect(",]") == "]":
                break
        skip_whitespace()
        if pos < len(buffer):
            raise Unreadable("invalid_json", f"Unexpected data after the JSON array at line {line}.", line)


def _jsonl_rows(path: str, limits: Limits) -> Iterator[Row]:
    with open(path, "rb") as handle:
        for number, _, raw in iter_lines(handle, limits.max_line_bytes):
            if raw is None:
                raise Unreadable("line_too_long", f"Line {number} is longer than the per-line limit.", number)
            if not raw.strip():
                continue
            try:
                yield number, json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield number, UNDECODABLE
            except ValueError as exc:
                raise Unreadable("invalid_json", f"Line {number} is not valid JSON: {exc}.", number) from None


def cell_text(value: Any) -> str | None:
    """A cell as text for a message, or None when it cannot be one (a nested object/list)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores every number as a float: 42.0 is 42
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return None
