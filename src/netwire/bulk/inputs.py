"""Reading the URL list: text (one URL a line, ``#`` comments), CSV or JSON Lines (a column or
field named by ``url_column``), each possibly gzip-compressed, a file or ``-`` (stdin), or any
iterable of strings from Python.

Every record gets a number ``n`` (its position among the records; blank and comment lines do
not count), which is what the index and the resume logic key on. A record that is not a usable
URL is yielded with an ``error`` (class name and message) instead of being dropped: it goes to
the index like any failure, and the run goes on.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from ..errors import InvalidURL
from ..url import URL

__all__ = ["MAX_LINE", "InputItem", "detect_format", "parse_url", "read_items"]

#: The longest input line (or CSV field) taken; a longer one is an error for that line, read past
#: in pieces so that a file without newlines cannot take the memory.
MAX_LINE = 64 * 1024
SCHEMES = ("http", "https")


@dataclass(slots=True, frozen=True)
class InputItem:
    """One input record: ``url`` (normalised) when usable, else ``error`` ("Class: message")."""

    n: int
    raw: str
    url: str | None
    host: str
    error: str | None = None


def parse_url(n: int, raw: str) -> InputItem:
    """Check one URL string: absolute, http or https, with a host."""
    text = raw.strip()
    if not text:
        return InputItem(n, raw, None, "", "InvalidURL: empty URL")
    try:
        url = URL(text)
    except (InvalidURL, ValueError) as exc:
        return InputItem(n, raw, None, "", f"InvalidURL: {exc}")
    if url.scheme not in SCHEMES:
        return InputItem(n, raw, None, "", f"UnsupportedScheme: {url.scheme!r} is not http or https")
    if not url.hostname:
        return InputItem(n, raw, None, "", "InvalidURL: no host")
    return InputItem(n, raw, str(url.without_fragment()), url.host)


def detect_format(name: str) -> str:
    """"text", "csv" or "jsonl" from a file name (a ``.gz`` suffix looked through)."""
    low = name.lower()
    if low.endswith(".gz"):
        low = low[:-3]
    if low.endswith((".csv", ".tsv")):
        return "csv"
    if low.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "text"


def _bounded_lines(f: IO[str]) -> Iterator[str | None]:
    """The lines of ``f`` without their end; None for a line longer than :data:`MAX_LINE`."""
    while True:
        line = f.readline(MAX_LINE + 1)
        if not line:
            return
        if len(line) > MAX_LINE and not line.endswith("\n"):
            while True:  # read past the rest of the over-long line
                more = f.readline(MAX_LINE)
                if not more or more.endswith("\n"):
                    break
            yield None
            continue
        yield line.rstrip("\r\n")


def _open_text(source: str) -> IO[str]:
    if source == "-":
        buffer: IO[bytes] = sys.stdin.buffer
        head = buffer.peek(2)[:2] if hasattr(buffer, "peek") else b""
        if head == b"\x1f\x8b":
            return io.TextIOWrapper(gzip.GzipFile(fileobj=buffer), encoding="utf-8", errors="replace", newline="")
        return io.TextIOWrapper(buffer, encoding="utf-8", errors="replace", newline="")
    if source.lower().endswith(".gz"):
        return gzip.open(source, "rt", encoding="utf-8", errors="replace", newline="")
    return open(source, encoding="utf-8", errors="replace", newline="")


#: Says whether record ``n`` (the URL text given) is wanted at all: those it refuses are not
#: parsed (a worker reads the whole input and keeps its shard's share; see :func:`read_items`).
Keep = Callable[[int, str], bool]


def _text_items(lines: Iterable[str | None], keep: Keep | None = None) -> Iterator[InputItem]:
    n = 0
    for line in lines:
        if line is None:
            yield InputItem(n, "", None, "", f"LineTooLong: more than {MAX_LINE} characters")
            n += 1
            continue
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if keep is None or keep(n, text):
            yield parse_url(n, text)
        n += 1


def _jsonl_items(lines: Iterable[str | None], column: str, keep: Keep | None = None) -> Iterator[InputItem]:
    n = 0
    for line in lines:
        if line is None:
            yield InputItem(n, "", None, "", f"LineTooLong: more than {MAX_LINE} characters")
            n += 1
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            yield InputItem(n, line[:200], None, "", f"BadRecord: not JSON ({exc})")
        else:
            value = record.get(column) if isinstance(record, dict) else None
            if isinstance(value, str):
                if keep is None or keep(n, value):
                    yield parse_url(n, value)
            else:
                yield InputItem(n, line[:200], None, "", f"BadRecord: no string field {column!r}")
        n += 1


def _csv_items(f: IO[str], column: str, delimiter: str, keep: Keep | None = None) -> Iterator[InputItem]:
    csv.field_size_limit(MAX_LINE)
    reader = csv.reader(f, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield InputItem(0, "", None, "", f"BadRecord: CSV header: {exc}")
        return
    if column not in header:
        raise ValueError(f"the CSV header has no column {column!r} (columns: {', '.join(header[:20])})")
    at = header.index(column)
    n = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield InputItem(n, "", None, "", f"BadRecord: {exc}")
            n += 1
            continue
        if not row:
            continue
        if at < len(row):
            if keep is None or keep(n, row[at]):
                yield parse_url(n, row[at])
        else:
            yield InputItem(n, ",".join(row)[:200], None, "", f"BadRecord: no column {column!r} in this row")
        n += 1


def read_items(
    source: str | Iterable[str], *, url_column: str | None = None, fmt: str | None = None, keep: Keep | None = None,
) -> Iterator[InputItem]:
    """The records of ``source``: a path (``.gz`` allowed), ``"-"`` for stdin, or an iterable of
    URL strings. ``fmt`` ("text", "csv", "jsonl") defaults to what the file name says, or to
    "csv"/"jsonl"... only by name: stdin is text unless ``fmt`` says otherwise.

    ``keep(n, text)``: records it refuses are skipped before their URL is parsed (records that
    are bad before any URL, such as an over-long line, are yielded whatever it says).

    :raises ValueError: a CSV without the ``url_column`` column.
    :raises OSError: the file cannot be opened.
    """
    if not isinstance(source, str):
        yield from _text_items(source, keep)
        return
    kind = fmt or ("text" if source == "-" else detect_format(source))
    column = url_column or "url"
    with _open_text(source) as f:
        if kind == "csv":
            delimiter = "\t" if source.lower().removesuffix(".gz").endswith(".tsv") else ","
            yield from _csv_items(f, column, delimiter, keep)
        elif kind == "jsonl":
            yield from _jsonl_items(_bounded_lines(f), column, keep)
        else:
            yield from _text_items(_bounded_lines(f), keep)
