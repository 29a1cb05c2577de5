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

import hashlib
import mmap
import os
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from .. import __version__

__all__ = [
    "DEFAULT_MAX_WARC_SIZE",
    "GZIP_LEVEL",
    "SyncJob",
    "WarcRecord",
    "WarcWriter",
    "compressible",
    "drop_cached",
    "exchange_records",
    "gzip_member",
    "gzip_parts",
    "metadata_record",
    "new_record_id",
    "request_block",
    "request_record",
    "response_block",
    "response_head",
    "response_record",
    "sha1_base32",
    "warc_date",
]

#: A WARC file is closed and the next one started once it reaches this many bytes (1 GB is the
#: size the WARC specification's annex suggests).
DEFAULT_MAX_WARC_SIZE = 1_000_000_000

Fields = Sequence[tuple[str, str]]


_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32_PAIRS = [a + b for a in _B32 for b in _B32]  # 10 bits -> two base32 digits


def _base32_160(digest: bytes) -> str:
    # base64.b32encode is a Python loop (before 3.13): this is one lookup per 10 bits of a
    # SHA-1, three of which are written per URL.
    n = int.from_bytes(digest, "big")
    return "".join([_B32_PAIRS[(n >> shift) & 1023] for shift in range(150, -1, -10)])


def sha1_base32(data: bytes | memoryview) -> str:
    """``sha1:`` + the base32 SHA-1 of ``data``: the digest form WARC tools write and check."""
    return "sha1:" + _base32_160(hashlib.sha1(data).digest())


def warc_date(when: datetime | None = None) -> str:
    """A WARC-Date: UTC, ISO 8601, with microseconds (WARC 1.1 allows sub-second precision)."""
    when = datetime.now(UTC) if when is None else when.astimezone(UTC)
    return when.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


def new_record_id() -> str:
    """A fresh ``WARC-Record-ID`` (a random, version 4, UUID URN in angle brackets)."""
    # uuid.uuid4() and its str() are Python code: this is the same UUID at a fifth of the cost.
    n = (int.from_bytes(os.urandom(16), "big") & _UUID_CLEAR) | _UUID_SET
    h = f"{n:032x}"
    return f"<urn:uuid:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}>"


def _clean(value: str) -> str:
    # A header value must stay on its line: a CR or LF in a URL or a message would forge fields.
    if "\r" in value or "\n" in value:
        return value.replace("\r", "%0D").replace("\n", "%0A")
    return value


Buffer = bytes | bytearray | memoryview


class WarcRecord:
    """One record, serialised (uncompressed) as a few buffers (its head, the block's parts, the
    end): its id, and whether gzip is worth trying on it (None: guess from the bytes). Kept in
    parts so that a large body is not copied into one string only to be copied out again."""

    __slots__ = ("compress", "parts", "record_id")

    def __init__(self, record_id: str, data: Buffer | Sequence[Buffer], compress: bool | None = None) -> None:
        self.record_id = record_id
        self.parts: tuple[Buffer, ...] = (data,) if isinstance(data, Buffer) else tuple(data)
        self.compress = compress

    @property
    def data(self) -> bytes:
        """The record as one string."""
        return b"".join(self.parts)


def _payload_digest(parts: Sequence[Buffer], offset: int) -> str:
    """The SHA-1 of the bytes of ``parts`` from ``offset`` on (without joining them)."""
    h = hashlib.sha1()
    for part in parts:
        n = len(part)
        if offset >= n:
            offset -= n
            continue
        h.update(memoryview(part)[offset:] if offset else part)
        offset = 0
    return "sha1:" + _base32_160(h.digest())


def build_record(
    warc_type: str,
    block: Buffer | Sequence[Buffer],
    *,
    content_type: str,
    target_uri: str | None = None,
    date: str | None = None,
    payload_offset: int | None = None,
    extra: Fields = (),
    record_id: str | None = None,
    compress: bool | None = None,
) -> WarcRecord:
    """A WARC/1.1 record of ``warc_type`` around ``block`` (bytes, or its parts in order).

    ``payload_offset``: where the HTTP payload starts in ``block`` (gives a WARC-Payload-Digest).
    ``compress``: whether gzip is worth trying on the record (see :func:`gzip_member`).
    """
    rid = record_id or new_record_id()
    parts: tuple[Buffer, ...] = (block,) if isinstance(block, bytes | bytearray | memoryview) else tuple(block)
    # The block digest covers the whole block, the payload digest (WARC 1.1, 5.9) the payload
    # alone: SHA-1 cannot resume from a state that has seen the HTTP head, so the body is hashed
    # twice (each pass is one C call over the body where it lies, no copy).
    digest = hashlib.sha1()
    size = 0
    for part in parts:
        digest.update(part)
        size += len(part)
    head = [f"WARC/1.1\r\nWARC-Type: {warc_type}\r\nWARC-Record-ID: {rid}\r\nWARC-Date: {date or warc_date()}\r\n"]
    if target_uri is not None:
        head.append(f"WARC-Target-URI: {_clean(target_uri)}\r\n")
    for name, value in extra:
        head.append(f"{name}: {_clean(value)}\r\n")
    head.append(f"WARC-Block-Digest: sha1:{_base32_160(digest.digest())}\r\n")
    if payload_offset is not None:
        head.append(f"WARC-Payload-Digest: {_payload_digest(parts, payload_offset)}\r\n")
    head.append(f"Content-Type: {content_type}\r\nContent-Length: {size}\r\n\r\n")
    return WarcRecord(rid, ("".join(head).encode("utf-8"), *parts, b"\r\n\r\n"), compress)


def request_block(method: str, target: str, headers: Fields, http_version: str = "HTTP/1.1") -> bytes:
    """The HTTP request head as sent (requests of this engine have no body)."""
    lines = [f"{method} {target} {http_version}"] + [f"{n}: {v}" for n, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def response_block(
    status: int, reason: str, http_version: str, headers: Fields, body: bytes
) -> tuple[bytes, int]:
    """The HTTP response as a block, and where its payload starts (see the module docstring)."""
    head = response_head(status, reason, http_version, headers, len(body))
    return head + body, len(head)


def response_head(status: int, reason: str, http_version: str, headers: Fields, body_length: int) -> bytes:
    """The HTTP head of a response block whose body is ``body_length`` bytes (the payload starts
    right after it; see the module docstring for the headers rewritten)."""
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
    if original_length is not None and original_length.strip() != str(body_length):
        out.append(f"X-Crawler-Content-Length: {original_length}")
    out.append(f"Content-Length: {body_length}")
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1", "replace")


def request_record(
    uri: str, block: bytes, *, date: str, concurrent_to: str, ip: str | None, record_id: str | None = None
) -> WarcRecord:
    extra: list[tuple[str, str]] = [("WARC-Concurrent-To", concurrent_to)]
    if ip:
        extra.append(("WARC-IP-Address", ip))
    return build_record(
        "request", block, content_type="application/http;msgtype=request", target_uri=uri, date=date,
        extra=extra, record_id=record_id, compress=True,
    )


def response_record(
    uri: str, block: Buffer | Sequence[Buffer], payload_offset: int, *, date: str, concurrent_to: str, ip: str | None,
    truncated: str | None = None, record_id: str | None = None, compress: bool | None = None,
) -> WarcRecord:
    extra: list[tuple[str, str]] = [("WARC-Concurrent-To", concurrent_to)]
    if ip:
        extra.append(("WARC-IP-Address", ip))
    if truncated:
        extra.append(("WARC-Truncated", truncated))
    return build_record(
        "response", block, content_type="application/http;msgtype=response", target_uri=uri, date=date,
        payload_offset=payload_offset, extra=extra, record_id=record_id, compress=compress,
    )


def exchange_records(
    uri: str, request_head: bytes, response_head: bytes, body: Buffer, *, date: str, ip: str | None,
    truncated: str | None = None, compress: bool | None = None,
) -> tuple[WarcRecord, WarcRecord]:
    """The ``request`` and ``response`` records of one HTTP exchange, naming each other: what
    :func:`request_record` and :func:`response_record` make, built for the hot path of a crawl
    (every URL goes through here): the shared fields are formatted once, the response block is
    kept as (head, body) so the body is hashed and written from where it lies.

    The payload digest is that of ``body`` as stored: WARC 1.1 (5.9) digests the payload with the
    transfer coding removed (the client de-chunks) and any content coding kept (not decoded here).
    """
    req_id, resp_id = new_record_id(), new_record_id()
    shared = f"WARC-Date: {date}\r\nWARC-Target-URI: {_clean(uri)}\r\n"
    peer = f"WARC-IP-Address: {_clean(ip)}\r\n" if ip else ""
    req_digest = _base32_160(hashlib.sha1(request_head).digest())
    req = (
        f"WARC/1.1\r\nWARC-Type: request\r\nWARC-Record-ID: {req_id}\r\n{shared}"
        f"WARC-Concurrent-To: {resp_id}\r\n{peer}WARC-Block-Digest: sha1:{req_digest}\r\n"
        f"Content-Type: application/http;msgtype=request\r\nContent-Length: {len(request_head)}\r\n\r\n"
    )
    # Block and payload digests need two SHA-1 passes over the body (see build_record).
    block = hashlib.sha1(response_head)
    block.update(body)
    resp = (
        f"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: {resp_id}\r\n{shared}"
        f"WARC-Concurrent-To: {req_id}\r\n{peer}"
        + (f"WARC-Truncated: {_clean(truncated)}\r\n" if truncated else "")
        + f"WARC-Block-Digest: sha1:{_base32_160(block.digest())}\r\n"
        f"WARC-Payload-Digest: sha1:{_base32_160(hashlib.sha1(body).digest())}\r\n"
        f"Content-Type: application/http;msgtype=response\r\n"
        f"Content-Length: {len(response_head) + len(body)}\r\n\r\n"
    )
    return (
        WarcRecord(req_id, (req.encode("utf-8"), request_head, b"\r\n\r\n"), True),
        WarcRecord(resp_id, (resp.encode("utf-8"), response_head, body, b"\r\n\r\n"), compress),
    )


def metadata_record(uri: str, fields: Iterable[tuple[str, str]], *, date: str | None = None) -> WarcRecord:
    """A ``metadata`` record (``application/warc-fields``): what went wrong fetching ``uri``."""
    block = "".join(f"{n}: {_clean(v)}\r\n" for n, v in fields).encode("utf-8")
    return build_record(
        "metadata", block, content_type="application/warc-fields", target_uri=uri, date=date, compress=True
    )


#: zlib level for compressible records (``bulk(gzip_level=...)``, ``--gzip-level``). On HTML
#: pages (200 of 34 KB, rustdoc's) level 1 takes 9 ns a byte and leaves 30.0% of the size; level 6
#: (zlib's default) 19 ns and 26.5%, level 9 27 ns and 26.5%. Compressing is the costliest step
#: of a text page's record; level 6 doubles it for files 12% smaller. Every reader takes any level.
GZIP_LEVEL = 1
#: A record up to this size gets a small zlib window: setting up zlib's full 32 KiB window and
#: 256 KiB hash costs more than compressing a request head.
SMALL_RECORD = 4096
#: A record up to this size is stored: compressing it would save a few hundred bytes at the
#: cost of a sizeable part of the CPU a whole URL takes.
TINY_RECORD = 1024
#: Bytes of the tail of a body looked at to guess whether it compresses.
_SAMPLE = 256
#: A sample with more distinct byte values than this is already compressed (or random: about
#: 162 in 256 bytes, rarely under 145): text and markup use well under a hundred.
_DISTINCT = 130
#: Bodies of these types, or with any Content-Encoding, are compressed already.
_PACKED_TYPES = ("image/", "video/", "audio/", "font/woff", "application/zip", "application/gzip",
                 "application/x-gzip", "application/zstd", "application/x-xz", "application/x-bzip2",
                 "application/x-7z", "application/x-rar")
_IOV_MAX = 512  # buffers per writev (the system's limit is 1024 or more)
_GZIP_HEAD = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no mtime, OS unknown
_STORED_HEAD = struct.Struct("<BHH")  # last-block flag and type, LEN, NLEN
_GZIP_TAIL = struct.Struct("<II")  # CRC-32, size mod 2**32


def compressible(body: Buffer, content_type: str | None = None, content_encoding: str | None = None) -> bool:
    """Whether gzip would gain anything on ``body``: not when the server compressed it already
    (a Content-Encoding, an image, a video...), nor when a sample of its tail looks random. A
    wrong guess costs only size (stored) or time (compressed), never correctness."""
    if content_encoding and content_encoding.strip().lower() not in ("", "identity"):
        return False
    if content_type and content_type.strip().lower().startswith(_PACKED_TYPES):
        return False
    if len(body) <= 2 * _SAMPLE:
        return True
    return len(set(memoryview(body)[-_SAMPLE:])) <= _DISTINCT


def _stored_member(parts: Sequence[Buffer]) -> list[Buffer]:
    """``parts`` (in order) as one gzip member of stored (uncompressed) deflate blocks, as
    buffers to write in turn: the parts are sliced, never copied. zlib's level 0 gives the same
    member at several times the cost (its set-up alone outweighs the copy)."""
    views = [memoryview(p) for p in parts if len(p)]
    total = sum(map(len, views))
    crc = 0
    for view in views:
        crc = zlib.crc32(view, crc)
    if 0 < total <= 0xFFFF:  # one block: most records
        return [_GZIP_HEAD, struct.pack("<BHH", 1, total, total ^ 0xFFFF), *views,
                struct.pack("<II", crc, total)]
    out: list[Buffer] = [_GZIP_HEAD]
    if not total:
        out.append(struct.pack("<BHH", 1, 0, 0xFFFF))
    left = total
    block: list[Buffer] = []
    room = 0xFFFF  # a stored block holds at most 65535 bytes
    for view in views:
        while view:
            piece = view[:room]
            view = view[len(piece):]
            block.append(piece)
            room -= len(piece)
            left -= len(piece)
            if not room or not left:
                n = 0xFFFF - room
                out.append(struct.pack("<BHH", 0 if left else 1, n, n ^ 0xFFFF))
                out.extend(block)
                block, room = [], 0xFFFF
    out.append(struct.pack("<II", crc, total & 0xFFFFFFFF))
    return out


def gzip_parts(
    data: Buffer | Sequence[Buffer], *, compress: bool | None = None, level: int = GZIP_LEVEL
) -> list[Buffer]:
    """``data`` (bytes, or parts in order) as one complete gzip member, as buffers to write in
    turn (records are compressed one by one, so a reader can seek to any record, and a cut-off
    file loses only its last record).

    ``compress``: False stores ``data`` uncompressed in the member (for bodies that do not
    compress: zlib gains nothing on them and runs at a tenth of its usual speed); None guesses
    with :func:`compressible`.
    """
    parts: Sequence[Buffer] = (data,) if isinstance(data, Buffer) else data
    size = sum(map(len, parts))
    if compress is None:
        compress = compressible(max(parts, key=len, default=b""))  # the body, in a record
    if not compress or level == 0 or size <= TINY_RECORD:
        if 0 < size <= 0xFFFF:  # one stored block (most records): the parts as they are
            crc = 0
            for part in parts:
                crc = zlib.crc32(part, crc)
            return [_GZIP_HEAD, _STORED_HEAD.pack(1, size, size ^ 0xFFFF), *parts, _GZIP_TAIL.pack(crc, size)]
        return _stored_member(parts)
    if size <= SMALL_RECORD:
        c = zlib.compressobj(level, zlib.DEFLATED, 16 + 12, 4)
    else:
        c = zlib.compressobj(level, zlib.DEFLATED, 16 + 15)
    out: list[Buffer] = [c.compress(part) for part in parts]
    out.append(c.flush())
    return out


def gzip_member(data: Buffer | Sequence[Buffer], *, compress: bool | None = None, level: int = GZIP_LEVEL) -> bytes:
    """:func:`gzip_parts` as one string."""
    return b"".join(gzip_parts(data, compress=compress, level=level))


def drop_cached(fd: int, start: int = 0, end: int | None = None) -> None:
    """Tell the kernel the bytes of ``fd`` from ``start`` to ``end`` (None: to the end of the
    file) will not be read again: written output already on disk (fsynced), so its page cache
    pages are freed at once.

    A crawl writes gigabytes it never reads back. Left in the page cache, they push out what
    other programs use, and every new page the writes need is taken from memory not touched
    for a while (reclaimed, or in a virtual machine first backed by the host): appending 47 KB
    cost about 90 us that way on the benchmark's machine, and 25 us into the pages the previous
    checkpoint freed. Durability is unchanged (only clean pages are dropped; a dirty one is
    written first). Where ``posix_fadvise`` does not exist (macOS, Windows) nothing is done.
    """
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    start -= start % _PAGE  # the page holding ``start`` was written in full since the last drop
    if end is not None:
        # Not the page being appended to: dropped, the next append would read it back first.
        end -= end % _PAGE
        if end <= start:
            return
    try:
        advise(fd, start, 0 if end is None else end - start, os.POSIX_FADV_DONTNEED)
    except OSError:  # pragma: no cover - a file system that refuses advice: only a lost saving
        pass


_PAGE = mmap.PAGESIZE


class SyncJob:
    """An fsync of one WARC file, then its written range dropped from the page cache; run
    once (it closes its descriptor, a ``dup`` of the writer's, whatever happens)."""

    __slots__ = ("end", "fd", "start")

    def __init__(self, fd: int, start: int, end: int) -> None:
        self.fd = fd
        self.start = start
        self.end = end

    def run(self) -> None:
        try:
            os.fsync(self.fd)
            drop_cached(self.fd, self.start, self.end)
        finally:
            os.close(self.fd)


class WarcWriter:
    """Appends gzip-compressed records to ``{prefix}-{seq:05d}.warc.gz`` files in ``directory``.

    A new file is started (with its ``warcinfo`` record) once the current one holds
    ``max_size`` bytes. :meth:`write` appends the records of one URL in a single write and says
    where they landed, for the index. :meth:`sync` makes what was written durable (fsync).
    """

    def __init__(
        self, directory: str, prefix: str, *, max_size: int = DEFAULT_MAX_WARC_SIZE, seq: int = 0,
        on_rotate: Callable[[str], None] | None = None, level: int = GZIP_LEVEL,
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1 byte")
        if not 0 <= level <= 9:
            raise ValueError(f"gzip level must be 0 (stored) to 9, not {level}")
        #: zlib level of the records that compress (0: every record stored uncompressed).
        self.level = level
        #: Called with a file's name once it is closed for good (rotated): an output URL gets it then.
        self.on_rotate = on_rotate
        #: The names of the files this writer appended to.
        self.written: set[str] = set()
        self.directory = directory
        self.prefix = prefix
        self.max_size = max_size
        self.seq = seq
        self._fd: int | None = None
        self.name = ""
        self.size = 0
        self._synced = 0  # bytes of the current file known to be on disk (fsynced)
        self._dirty = False

    def file_name(self, seq: int) -> str:
        return f"{self.prefix}-{seq:05d}.warc.gz"

    def _open(self) -> None:
        self.name = self.file_name(self.seq)
        path = os.path.join(self.directory, self.name)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.written.add(self.name)
        self.size = self._synced = os.fstat(self._fd).st_size
        if self.size == 0:
            self._append(gzip_parts(self._warcinfo().parts, level=self.level))

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

    def _append(self, buffers: list[Buffer]) -> int:
        """Write ``buffers`` in order (a few system calls, whatever their number); their length."""
        assert self._fd is not None
        total = 0
        at = 0
        while at < len(buffers):
            batch = buffers[at:at + _IOV_MAX]
            at += len(batch)
            want = sum(map(len, batch))
            written = os.writev(self._fd, batch)
            if written < want:  # a short write (a full disk, a signal): the rest one by one
                rest = memoryview(b"".join(batch))[written:]
                while rest:
                    rest = rest[os.write(self._fd, rest):]
            total += want
        self.size += total
        self._dirty = True
        return total

    def write(self, records: Sequence[WarcRecord]) -> tuple[str, int, int]:
        """Append ``records``; returns (file name, offset, length) of the bytes written."""
        if self._fd is None:
            self._open()
        elif self.size >= self.max_size:
            closed = self.name
            self.close()
            if self.on_rotate is not None:
                self.on_rotate(closed)
            self.seq += 1
            self._open()
        buffers: list[Buffer] = []
        for r in records:
            buffers.extend(gzip_parts(r.parts, compress=r.compress, level=self.level))
        offset = self.size
        length = self._append(buffers)
        return self.name, offset, length

    def sync(self) -> None:
        """fsync the current file (only when something was written since the last sync), then
        let the page cache drop what is now on disk (see :func:`drop_cached`)."""
        handle = self.sync_handle()
        if handle is not None:
            handle.run()

    def sync_handle(self) -> SyncJob | None:
        """What :meth:`sync` would do, to be run later, in another thread if need be (None:
        nothing written since the last one). The job holds its own descriptor of the file
        (a ``dup``), so that the writer may go on appending, or rotate and close the file,
        while the fsync runs: the job makes durable at least every byte written before this
        call, which is what the index lines handed over with it claim."""
        if self._fd is None or not self._dirty:
            return None
        job = SyncJob(os.dup(self._fd), self._synced, self.size)
        self._dirty = False
        self._synced = self.size
        return job

    def close(self) -> None:
        if self._fd is not None:
            self.sync()
            os.close(self._fd)
            self._fd = None
