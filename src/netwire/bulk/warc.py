"""WARC/1.1 records and files: one gzip member per record, files rotated by size.

Conventions (those of the WARC 1.1 specification and of warcio, the common reader):

* ``WARC-Block-Digest`` is the SHA-1 of the whole record block, ``WARC-Payload-Digest`` that of
  the HTTP payload (the bytes after the HTTP head), both written ``sha1:`` + base32.
* A request record and its response record name each other with ``WARC-Concurrent-To``.
* Each file starts with a ``warcinfo`` record naming the software and the format.
* The client hands us the body with any chunked framing removed. The block keeps the server's head
  but, as Nutch and StormCrawler (Common Crawl) do, renames ``Transfer-Encoding`` to
  ``X-Crawler-Transfer-Encoding`` and states the real ``Content-Length`` (the server's one, when it
  differs, is kept as ``X-Crawler-Content-Length``), so that the block parses as the message it is.
  The body is stored as sent (``Content-Encoding`` untouched: the engine does not decompress).

Nothing here does network I/O; :class:`WarcWriter` appends to local files.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
import zlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from .. import __version__

__all__ = [
    "DEFAULT_MAX_WARC_SIZE",
    "GZIP_LEVEL",
    "WarcRecord",
    "WarcWriter",
    "gzip_member",
    "metadata_record",
    "new_record_id",
    "request_block",
    "request_record",
    "response_block",
    "response_record",
    "sha1_base32",
    "warc_date",
]

#: A WARC file is closed and the next one started once it reaches this many bytes (1 GB is the
#: size the WARC specification's annex suggests).
DEFAULT_MAX_WARC_SIZE = 1_000_000_000

Fields = Sequence[tuple[str, str]]


def sha1_base32(data: bytes) -> str:
    """``sha1:`` + the base32 SHA-1 of ``data``: the digest form WARC tools write and check."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def warc_date(when: datetime | None = None) -> str:
    """A WARC-Date: UTC, ISO 8601, with microseconds (WARC 1.1 allows sub-second precision)."""
    when = when or datetime.now(UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_record_id() -> str:
    """A fresh ``WARC-Record-ID`` (a UUID URN in angle brackets)."""
    return f"<urn:uuid:{uuid.uuid4()}>"


def _clean(value: str) -> str:
    # A header value must stay on its line: a CR or LF in a URL or a message would forge fields.
    return value.replace("\r", "%0D").replace("\n", "%0A")


class WarcRecord:
    """One record, serialised (uncompressed): its id and bytes."""

    __slots__ = ("data", "record_id")

    def __init__(self, record_id: str, data: bytes) -> None:
        self.record_id = record_id
        self.data = data


def build_record(
    warc_type: str,
    block: bytes,
    *,
    content_type: str,
    target_uri: str | None = None,
    date: str | None = None,
    payload_offset: int | None = None,
    extra: Fields = (),
    record_id: str | None = None,
) -> WarcRecord:
    """A WARC/1.1 record of ``warc_type`` around ``block``.

    ``payload_offset``: where the HTTP payload starts in ``block`` (gives a WARC-Payload-Digest).
    """
    rid = record_id or new_record_id()
    fields: list[tuple[str, str]] = [
        ("WARC-Type", warc_type),
        ("WARC-Record-ID", rid),
        ("WARC-Date", date or warc_date()),
    ]
    if target_uri is not None:
        fields.append(("WARC-Target-URI", _clean(target_uri)))
    fields.extend((name, _clean(value)) for name, value in extra)
    fields.append(("WARC-Block-Digest", sha1_base32(block)))
    if payload_offset is not None:
        fields.append(("WARC-Payload-Digest", sha1_base32(block[payload_offset:])))
    fields.append(("Content-Type", content_type))
    fields.append(("Content-Length", str(len(block))))
    head = "WARC/1.1\r\n" + "".join(f"{n}: {v}\r\n" for n, v in fields) + "\r\n"
    return WarcRecord(rid, head.encode("utf-8") + block + b"\r\n\r\n")


def request_block(method: str, target: str, headers: Fields, http_version: str = "HTTP/1.1") -> bytes:
    """The HTTP request head as sent (requests of this engine have no body)."""
    lines = [f"{method} {target} {http_version}"] + [f"{n}: {v}" for n, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def response_block(
    status: int, reason: str, http_version: str, headers: Fields, body: bytes
) -> tuple[bytes, int]:
    """The HTTP response as a block, and where its payload starts (see the module docstring)."""
    version = http_version if http_version.startswith("HTTP/") else f"HTTP/{http_version}"
    out: list[str] = [f"{version} {status} {reason}".rstrip()]
    original_length: str | None = None
    for name, value in headers:
        low = name.lower()
        if low == "transfer-encoding":
            out.append(f"X-Crawler-Transfer-Encoding: {value}")
        elif low == "content-length":
            original_length = value
        else:
            out.append(f"{name}: {value}")
    if original_length is not None and original_length.strip() != str(len(body)):
        out.append(f"X-Crawler-Content-Length: {original_length}")
    out.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1", "replace")
    return head + body, len(head)


def request_record(
    uri: str, block: bytes, *, date: str, concurrent_to: str, ip: str | None, record_id: str | None = None
) -> WarcRecord:
    extra: list[tuple[str, str]] = [("WARC-Concurrent-To", concurrent_to)]
    if ip:
        extra.append(("WARC-IP-Address", ip))
    return build_record(
        "request", block, content_type="application/http;msgtype=request", target_uri=uri, date=date,
        extra=extra, record_id=record_id,
    )


def response_record(
    uri: str, block: bytes, payload_offset: int, *, date: str, concurrent_to: str, ip: str | None,
    truncated: str | None = None, record_id: str | None = None,
) -> WarcRecord:
    extra: list[tuple[str, str]] = [("WARC-Concurrent-To", concurrent_to)]
    if ip:
        extra.append(("WARC-IP-Address", ip))
    if truncated:
        extra.append(("WARC-Truncated", truncated))
    return build_record(
        "response", block, content_type="application/http;msgtype=response", target_uri=uri, date=date,
        payload_offset=payload_offset, extra=extra, record_id=record_id,
    )


def metadata_record(uri: str, fields: Iterable[tuple[str, str]], *, date: str | None = None) -> WarcRecord:
    """A ``metadata`` record (``application/warc-fields``): what went wrong fetching ``uri``."""
    block = "".join(f"{n}: {_clean(v)}\r\n" for n, v in fields).encode("utf-8")
    return build_record("metadata", block, content_type="application/warc-fields", target_uri=uri, date=date)


#: zlib level for records: 3 compresses HTML within ~15% of level 6 at over twice the speed.
GZIP_LEVEL = 3
_SAMPLE = 8192


def gzip_member(data: bytes) -> bytes:
    """``data`` as one complete gzip member (records are compressed one by one, so a reader can
    seek to any record, and a cut-off file loses only its last record).

    A large record whose tail does not compress (an image, a video, a gzip body: zlib gains
    nothing on them and runs at a tenth of its usual speed) is stored uncompressed in the member.
    """
    level = GZIP_LEVEL
    if len(data) > 2 * _SAMPLE:
        probe = zlib.compress(data[-_SAMPLE:], 1)
        if len(probe) > _SAMPLE * 0.95:
            level = 0
    c = zlib.compressobj(level, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


class WarcWriter:
    """Appends gzip-compressed records to ``{prefix}-{seq:05d}.warc.gz`` files in ``directory``.

    A new file is started (with its ``warcinfo`` record) once the current one holds
    ``max_size`` bytes. :meth:`write` appends the records of one URL in a single write and says
    where they landed, for the index. :meth:`sync` makes what was written durable (fsync).
    """

    def __init__(self, directory: str, prefix: str, *, max_size: int = DEFAULT_MAX_WARC_SIZE, seq: int = 0) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1 byte")
        self.directory = directory
        self.prefix = prefix
        self.max_size = max_size
        self.seq = seq
        self._fd: int | None = None
        self.name = ""
        self.size = 0
        self._dirty = False

    def file_name(self, seq: int) -> str:
        return f"{self.prefix}-{seq:05d}.warc.gz"

    def _open(self) -> None:
        self.name = self.file_name(self.seq)
        path = os.path.join(self.directory, self.name)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.size = os.fstat(self._fd).st_size
        if self.size == 0:
            self._append(gzip_member(self._warcinfo().data))

    def _warcinfo(self) -> WarcRecord:
        fields = [
            ("software", f"netwire/{__version__}"),
            ("format", "WARC File Format 1.1"),
            ("conformsTo", "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"),
        ]
        block = "".join(f"{n}: {v}\r\n" for n, v in fields).encode("utf-8")
        return build_record(
            "warcinfo", block, content_type="application/warc-fields", extra=[("WARC-Filename", self.name)]
        )

    def _append(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self.size += len(data)
        self._dirty = True

    def write(self, records: Sequence[WarcRecord]) -> tuple[str, int, int]:
        """Append ``records``; returns (file name, offset, length) of the bytes written."""
        if self._fd is None:
            self._open()
        elif self.size >= self.max_size:
            self.close()
            self.seq += 1
            self._open()
        data = b"".join(gzip_member(r.data) for r in records)
        offset = self.size
        self._append(data)
        return self.name, offset, len(data)

    def sync(self) -> None:
        """fsync the current file (only when something was written since the last sync)."""
        if self._fd is not None and self._dirty:
            os.fsync(self._fd)
            self._dirty = False

    def close(self) -> None:
        if self._fd is not None:
            self.sync()
            os.close(self._fd)
            self._fd = None
