"""Sans-IO HTTP/1.1 for a client (RFC 9112): request bytes out, response events in.

Nothing here touches a socket or a clock. The connection layer hands us what it read
(``ResponseParser.feed``) and gets back events; it asks us for the bytes of a request
(``encode_request_head``, ``encode_chunk``). That keeps the rules of the protocol in one place,
shared by the sync and async clients, and testable byte by byte.

Contract of ``ResponseParser``:

* ``feed(data)`` accepts any split of the response bytes and returns the events completed so far,
  in order: zero or more ``Informational`` (1xx, bounded in number), one ``ResponseHead``, zero or
  more ``Data``, one ``EndOfMessage``. After ``EndOfMessage`` any further bytes are kept in
  ``trailing_data`` (they are not ours: a connection with such bytes must not be reused).
* ``feed_eof()`` says the peer closed; it completes a read-until-close body or raises
  ``IncompleteResponse`` / ``ProtocolError`` when the message was cut short.
* Every violation of the grammar or of a limit raises ``ProtocolError`` naming what was wrong;
  nothing else is ever raised for any input bytes.
* Bodies framed by Content-Length can bypass ``feed``: ``direct_body_remaining`` says how many
  body bytes may be read straight into a caller's buffer, ``direct_body_consumed(n)`` accounts
  for them. This lets a 64 MiB download go socket -> user buffer with no copy in between.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from .._mypyc import python_class
from ..errors import IncompleteResponse, LocalProtocolError, ProtocolError

__all__ = [
    "DEFAULT_LIMITS",
    "Data",
    "EndOfMessage",
    "IncompleteResponse",
    "Informational",
    "ParserLimits",
    "ResponseHead",
    "ResponseParser",
    "chunked_body",
    "content_length_of",
    "encode_chunk",
    "encode_request_head",
    "validate_header",
]


@dataclass(frozen=True, slots=True)
class ParserLimits:
    """Bounds on what a response may make the parser hold (exceeding one is a ProtocolError),
    and the parser's one opt-in leniency (``http09_status_as_10``)."""

    max_line_length: int = 16 * 1024
    """Longest status line or header line, in bytes."""
    max_header_bytes: int = 256 * 1024
    """Largest header (or trailer) section, in bytes."""
    max_header_count: int = 256
    """Most header (or trailer) fields in one section."""
    max_chunk_line_length: int = 4 * 1024
    """Longest chunk-size line (size plus extensions)."""
    max_informational: int = 32
    """Most interim (1xx) responses before the final one (cf. CVE-2021-3737)."""
    http09_status_as_10: bool = False
    """Read an ``HTTP/0.9 <status>`` status line as HTTP/1.0 (not a bound, a leniency).

    Some embedded servers answer so; ``http.client`` reads it as 1.0, and the urllib face turns
    this on to do the same. Off by default: a status line claiming 0.9 is otherwise a malformed
    response (HTTP/0.9 had no status line at all)."""


DEFAULT_LIMITS: Final = ParserLimits()

# -- events -------------------------------------------------------------------------------------


def split_raw_fields(raw: str) -> list[tuple[str, str]]:
    """The (name, value) list of a header section the fast path validated (``ResponseHead.raw_fields``)."""
    fields = []
    for line in raw.split("\r\n")[1:-1]:
        name, _, value = line.partition(":")
        fields.append((name, value.strip(" \t")))
    return fields


class Informational:
    """An interim 1xx response (100 Continue, 103 Early Hints...)."""

    __slots__ = ("headers", "reason", "status")

    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]]) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers

    def __repr__(self) -> str:
        return f"Informational({self.status}, {self.reason!r})"


@python_class  # compiled build: built by cls.__new__ (see _lazy)
class ResponseHead:
    """The status line and header section of the final response.

    ``headers`` is the field list in arrival order. When the parser's fast path read the head,
    ``raw_fields`` holds the header section as text (``"\\r\\nName: value\\r\\n...\\r\\n"``, every line
    already validated) and ``headers`` is only split from it on first access: the client hands
    ``raw_fields`` to ``Headers``, which answers lookups from it without building the list.
    """

    __slots__ = ("_headers", "http_version", "index", "keep_alive", "raw_fields", "raw_lower", "reason", "status")
    index: dict[str, list[str]] | None

    def __init__(
        self, status: int, reason: str, http_version: str, headers: list[tuple[str, str]], keep_alive: bool
    ) -> None:
        self.index = None  # headers by lower-cased name, when built
        self.raw_fields: str | None = None
        self.raw_lower: str | None = None  # raw_fields lower-cased (the fast path made it anyway)
        self.status = status
        self.reason = reason
        self.http_version = http_version
        self._headers: list[tuple[str, str]] | None = headers
        self.keep_alive = keep_alive

    @classmethod
    def _lazy(cls, status: int, reason: str, http_version: str, raw_fields: str, raw_lower: str) -> ResponseHead:
        # ``headers`` is split from ``raw_fields`` when first read.
        head = cls.__new__(cls)
        head._headers = None
        head.index = None
        head.raw_fields = raw_fields
        head.raw_lower = raw_lower
        head.status = status
        head.reason = reason
        head.http_version = http_version
        head.keep_alive = False
        return head

    # A property, not a __getattr__ for an unset slot: a class with __getattr__ pays a hook on
    # every attribute read (the interpreter cannot specialise them), and heads are read often.
    # Read-only (a python_class cannot have a property setter in the compiled build): the list
    # is given to __init__, or split from raw_fields.
    @property
    def headers(self) -> list[tuple[str, str]]:
        headers = self._headers
        if headers is None:
            headers = self._headers = split_raw_fields(self.raw_fields or "")
        return headers

    def __repr__(self) -> str:
        return f"ResponseHead({self.status}, {self.reason!r}, HTTP/{self.http_version}, {len(self.headers)} headers)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ResponseHead) and (
            self.status, self.reason, self.http_version, self.headers, self.keep_alive
        ) == (other.status, other.reason, other.http_version, other.headers, other.keep_alive)

    __hash__ = None  # type: ignore[assignment]


class Data:
    """A piece of the response body (after transfer decoding)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"Data({len(self.data)} bytes)"


class EndOfMessage:
    """The body is complete; ``trailers`` holds the chunked trailer fields, if any."""

    __slots__ = ("trailers",)

    def __init__(self, trailers: list[tuple[str, str]] | None = None) -> None:
        self.trailers = trailers or []

    def __repr__(self) -> str:
        return f"EndOfMessage({len(self.trailers)} trailers)"


Event = Informational | ResponseHead | Data | EndOfMessage

# -- request side -------------------------------------------------------------------------------

# RFC 9110 5.6.2: token = 1*tchar
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A field value may hold any visible octet, SP, HTAB and obs-text; CR, LF and NUL are what let
# a caller's string smuggle a second header or request (CVE-2019-9740, CVE-2019-18348).
_FORBIDDEN_IN_VALUE = re.compile(r"[\x00\r\n]")
# The request-target is visible ASCII only: no controls or spaces (CVE-2019-9740, CVE-2019-9947),
# and nothing past 0x7E (a URL puts those through percent-encoding first).
_FORBIDDEN_IN_TARGET = re.compile(r"[^\x21-\x7e]")


def validate_header(name: str, value: str) -> None:
    """Raise LocalProtocolError unless ``name: value`` is one safe header line."""
    if _TOKEN.fullmatch(name) is None:
        raise LocalProtocolError(f"invalid header name {name!r}: must be an RFC 9110 token")
    if _FORBIDDEN_IN_VALUE.search(value) is not None:
        raise LocalProtocolError(f"invalid value for header {name!r}: CR, LF and NUL are not allowed")


def encode_request_head(method: str, target: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """The request line and header section, validated, as bytes ready to send.

    ``target`` is the request-target as the caller chose its form: origin-form ("/path?q"),
    absolute-form ("http://host/path", for a plain proxy) or authority-form ("host:443", CONNECT).
    ``headers`` are sent in the caller's order and must include Host.
    """
    if _TOKEN.fullmatch(method) is None:
        raise LocalProtocolError(f"invalid method {method!r}: must be an RFC 9110 token")
    if not target or _FORBIDDEN_IN_TARGET.search(target) is not None:
        raise LocalProtocolError(
            f"invalid request target {target!r}: empty, or holds a control character, space or non-ASCII character"
        )
    parts = [method, " ", target, " HTTP/1.1\r\n"]
    token = _TOKEN.fullmatch
    forbidden = _FORBIDDEN_IN_VALUE.search
    for name, value in headers:
        if token(name) is None:
            raise LocalProtocolError(f"invalid header name {name!r}: must be an RFC 9110 token")
        if forbidden(value) is not None:
            raise LocalProtocolError(f"invalid value for header {name!r}: CR, LF and NUL are not allowed")
        parts += (name, ": ", value, "\r\n")
    parts.append("\r\n")
    head = "".join(parts)
    try:
        return head.encode("latin-1")
    except UnicodeEncodeError as exc:
        bad = head[exc.start : exc.end]
        raise LocalProtocolError(
            f"request head holds {bad!r}, which is not Latin-1; percent-encode URLs and encode header values"
        ) from None


def encode_chunk(data: bytes) -> bytes:
    """One chunk of a chunked body. An empty ``data`` gives nothing (not the last-chunk)."""
    if not data:
        return b""
    return b"%x\r\n%b\r\n" % (len(data), data)


LAST_CHUNK: Final = b"0\r\n\r\n"


def chunked_body(chunks: Iterable[bytes]) -> Iterable[bytes]:
    """Frame an iterable of byte strings with chunked transfer coding."""
    for chunk in chunks:
        if chunk:
            yield b"%x\r\n" % len(chunk)
            yield chunk
            yield b"\r\n"
    yield LAST_CHUNK


def content_length_of(body: object) -> int | None:
    """The length of a body known before sending it, or None (then it is sent chunked).

    bytes-like objects have one; a regular file has one from its size and position; an iterator
    or a pipe has none.
    """
    if body is None:
        return 0
    if isinstance(body, bytes | bytearray | memoryview):
        return memoryview(body).nbytes
    fileno = getattr(body, "fileno", None)
    if fileno is not None:
        try:
            st = os.fstat(fileno())
        except (OSError, ValueError):
            pass  # not a real file (BytesIO raises here): try seeking below
        else:
            import stat

            if not stat.S_ISREG(st.st_mode):
                return None  # a pipe, socket or tty: its length is not known in advance
            try:
                pos = body.tell()  # type: ignore[attr-defined]
            except (OSError, AttributeError):
                pos = 0
            return max(st.st_size - int(pos), 0)
    seek, tell = getattr(body, "seek", None), getattr(body, "tell", None)
    if seek is not None and tell is not None:
        try:
            if hasattr(body, "seekable") and not body.seekable():
                return None
            pos = tell()
            end = seek(0, os.SEEK_END)
            seek(pos)
        except (OSError, ValueError):
            return None
        return max(int(end) - int(pos), 0)
    return None


# -- response side ------------------------------------------------------------------------------

_STATUS_LINE = re.compile(r"HTTP/(\d)\.(\d) (\d{3})(?: (.*))?")
_CHUNK_SIZE = re.compile(rb"[ \t]*([0-9A-Fa-f]{1,16})[ \t]*(?:;.*)?")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_INVALID_VALUE_CHARS = re.compile(r"[\x00\r\n]")
_CLEAN_SECTION = re.compile(r"(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\r\n\x00]*\r\n)*\r\n")
# The common response head in one piece: an HTTP/1.0 or 1.1 status line and CRLF lines of token
# names and values free of CR, up to the first blank line. A value class of one excluded byte
# lets the regex engine scan values with its single-byte loop (a class of three bytes costs it a
# test per byte, most of the parse); ``_fast_head`` then refuses a head holding a bare LF or a NUL,
# so what it accepts is exactly "values free of CR, LF and NUL". Whatever it refuses goes to the
# line-by-line parser, which accepts or rejects it with a precise error.
# Possessive repeats (``*+``, ``++``): no repeat here ever needs to give back what it took (a value
# stops at CR, a name at the colon, a field at the CR of the blank line), and without the
# backtracking bookkeeping the match costs about a third less.
_FAST_HEAD = re.compile(
    rb"HTTP/1\.([01]) ([0-9]{3})(?: ([^\r]*+))?\r\n((?:[!#$%&'*+\-.^_`|~0-9A-Za-z]++:[^\r]*+\r\n)*+)\r\n"
)

_S_HEAD = 0
_S_LENGTH = 1
_S_CHUNK_SIZE = 2
_S_CHUNK_DATA = 3
_S_CHUNK_END = 4
_S_TRAILERS = 5
_S_UNTIL_CLOSE = 6
_S_DONE = 7


def _line_too_long(buf: bytearray, limit: int) -> bool:
    """Whether the first line in ``buf`` (complete or not) is longer than ``limit``.

    The length excludes the line ending, so a line is judged the same whether it arrives whole
    or byte by byte (a lone CR at the end of an incomplete line may be the start of its CRLF).
    """
    nl = buf.find(b"\n")
    if nl < 0:
        n = len(buf) - 1 if buf[-1:] == b"\r" else len(buf)
    else:
        n = nl - 1 if nl and buf[nl - 1] == 13 else nl
    return n > limit


def _last_line_too_long(buf: bytearray, limit: int) -> bool:
    """Whether the unfinished line at the end of ``buf`` is already longer than ``limit``.

    Lets a header line that never ends be refused at max_line_length, not only once the whole
    section reaches max_header_bytes.
    """
    n = len(buf) - (buf.rfind(b"\n") + 1)
    if buf[-1:] == b"\r":
        n -= 1
    return n > limit


def _raw_values(raw: str, low: str, key: str) -> list[str]:
    """The values of every field whose ``"\\r\\nname:"`` is ``key``, in a validated raw section."""
    values = []
    i = low.find(key)
    while i >= 0:
        j = i + len(key)
        e = low.find("\r\n", j)
        values.append(raw[j:e].strip(" \t"))
        i = low.find(key, e)
    return values


class ResponseParser:
    """Turns the bytes of one response into events. One parser per response."""

    __slots__ = (
        "_blank_lines",
        "_buf",
        "_common_keep_alive",
        "_content_length",
        "_informational",
        "_limits",
        "_method_connect",
        "_method_head",
        "_received_body",
        "_remaining",
        "_scan_from",
        "_state",
        "head",
        "keep_alive",
        "received_any",
        "trailing_data",
    )

    def __init__(self, method: str = "GET", limits: ParserLimits = DEFAULT_LIMITS) -> None:
        self._limits = limits
        self._method_head = method == "HEAD"
        self._method_connect = method == "CONNECT"
        self._buf = bytearray()
        self._blank_lines = 0
        self._state = _S_HEAD
        self._scan_from = 0
        self._remaining = 0
        self._content_length: int | None = None
        self._common_keep_alive = False  # _common_length's second answer
        self._received_body = 0
        self._informational = 0
        self.head: ResponseHead | None = None
        self.keep_alive = False
        self.received_any = False
        self.trailing_data = b""

    # -- public -----------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self._state == _S_DONE

    @property
    def direct_body_remaining(self) -> int:
        """Body bytes the caller may read past ``feed`` straight into its own buffer (0 if none)."""
        if self._state == _S_LENGTH and not self._buf:
            return self._remaining
        return 0

    def direct_body_consumed(self, n: int) -> EndOfMessage | None:
        """Account for ``n`` body bytes the caller read itself; returns EndOfMessage at the end."""
        if self._state != _S_LENGTH or self._buf or n > self._remaining:
            raise ValueError("direct body read does not match the parser's state")
        self._remaining -= n
        self._received_body += n
        if self._remaining == 0:
            self._state = _S_DONE
            return EndOfMessage()
        return None

    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Consume ``data`` and return the events it completed."""
        events: list[Event] = []
        if not data:
            return events
        self.received_any = True
        state = self._state
        # Fast path: the whole of ``data`` is body bytes of a Content-Length response.
        if state == _S_LENGTH and not self._buf:
            n = len(data)
            if n < self._remaining:
                self._remaining -= n
                self._received_body += n
                events.append(Data(bytes(data)))
                return events
        if state == _S_DONE:
            self.trailing_data += bytes(data)
            return events
        if state == _S_HEAD and not self._buf and type(data) is not memoryview and self._fast_head(data, events):
            return events
        self._buf += data
        self._run(events)
        return events

    def feed_eof(self) -> list[Event]:
        """The peer closed its side: finish a read-until-close body, or fail a cut-short one."""
        state = self._state
        if state == _S_DONE:
            return []
        if state == _S_UNTIL_CLOSE:
            self._state = _S_DONE
            return [EndOfMessage()]
        if state == _S_TRAILERS and not self._buf:
            # The last chunk (size 0) arrived, then the connection closed where the blank line
            # ending the (empty) trailer section belongs. Every body byte is here, so the body is
            # complete (http.client and curl judge so too); but the peer broke the framing, so
            # this connection is not reused. Trailer bytes cut short stay an error: we cannot
            # tell whether more fields were coming.
            self.keep_alive = False
            self._state = _S_DONE
            return [EndOfMessage()]
        if state == _S_HEAD:
            if not self.received_any:
                raise IncompleteResponse(
                    "server closed the connection without sending a response", nothing_received=True
                )
            raise IncompleteResponse(
                f"server closed the connection in the middle of the response head ({len(self._buf)} bytes)"
            )
        if state == _S_LENGTH:
            raise IncompleteResponse(
                f"connection closed after {self._received_body} of {self._content_length} body bytes",
                received=self._received_body,
                expected=self._content_length,
            )
        raise IncompleteResponse(
            f"connection closed in the middle of a chunked body after {self._received_body} bytes",
            received=self._received_body,
        )

    # -- internals --------------------------------------------------------------------------

    def _run(self, events: list[Event]) -> None:
        buf = self._buf
        while buf:
            state = self._state
            if state == _S_LENGTH:
                n = min(len(buf), self._remaining)
                events.append(Data(bytes(buf[:n])))
                del buf[:n]
                self._remaining -= n
                self._received_body += n
                if self._remaining == 0:
                    self._finish(events, None)
            elif state == _S_CHUNK_DATA:
                n = min(len(buf), self._remaining)
                events.append(Data(bytes(buf[:n])))
                del buf[:n]
                self._remaining -= n
                self._received_body += n
                if self._remaining == 0:
                    self._state = _S_CHUNK_END
            elif state == _S_CHUNK_SIZE:
                if not self._chunk_size():
                    return
            elif state == _S_CHUNK_END:
                if buf[:2] == b"\r\n":
                    del buf[:2]
                elif buf[:1] == b"\n":
                    del buf[:1]
                elif len(buf) == 1 and buf[0] == 13:
                    return
                else:
                    raise ProtocolError("chunk data not followed by CRLF (chunk size does not match the data)")
                self._state = _S_CHUNK_SIZE
            elif state == _S_HEAD:
                if not self._head(events):
                    return
            elif state == _S_TRAILERS:
                if not self._trailers(events):
                    return
            elif state == _S_UNTIL_CLOSE:
                events.append(Data(bytes(buf)))
                self._received_body += len(buf)
                buf.clear()
            else:  # _S_DONE: bytes past the end of the message
                self.trailing_data += bytes(buf)
                buf.clear()

    def _fast_head(self, data: bytes | bytearray, events: list[Event]) -> bool:
        """Parse a whole common head at the start of ``data`` in one pass; False if not one.

        The framing fields are found by searching the lower-cased section, the field list is
        left for ``ResponseHead``/``Headers`` to split when someone asks. On False nothing was
        consumed and the full parser takes ``data``: any head this declines (cut short, 1xx,
        obs-fold, bare LF, a bad byte, a line or section over a limit...) is judged there, so
        every rule and error stays the full parser's.
        """
        end = data.find(b"\r\n\r\n") + 4
        limits = self._limits
        # Under max_line_length as a whole, no line of it can exceed that limit.
        if end < 4 or end > limits.max_line_length or end > limits.max_header_bytes:
            return False
        m = _FAST_HEAD.fullmatch(data, 0, end)
        if m is None:
            return False
        minor, code, reason, _ = m.groups()
        status = int(code)
        if status < 200:
            return False  # interim responses and 101: rare, the full path handles them
        raw = data[m.start(4) - 2 : end - 2].decode("latin-1")  # from the CRLF ending the status line
        lines = raw.count("\r\n")
        # The regex let LF and NUL through in values (see _FAST_HEAD): a bare LF is one more "\n"
        # than there are CRLFs.
        if lines - 1 > limits.max_header_count or raw.count("\n") != lines or "\0" in raw:
            return False
        if reason is None:
            reason_text = ""
        else:
            reason_text = reason.decode("latin-1")
            if "\n" in reason_text or "\0" in reason_text:  # (on str: ``in`` on bytes first tries an int)
                return False
        low = raw.lower()  # length-preserving on Latin-1 text, so indices match ``raw``
        # ResponseHead._lazy, inline (one call less on every response).
        head = ResponseHead.__new__(ResponseHead)
        head._headers = None  # split from raw when first read
        head.index = None
        head.raw_fields = raw
        head.raw_lower = low
        head.status = status
        head.reason = reason_text
        head.http_version = version = "1.0" if minor == b"0" else "1.1"
        length = self._common_length(status, version, raw, low)
        if length >= 0:
            # The usual framing (see _common_length), applied here: no value lists, no _frame.
            self._content_length = self._remaining = length
            self.keep_alive = head.keep_alive = self._common_keep_alive
            self.head = head
            events.append(head)
            n = len(data) - end
            if n == length:
                # The usual small response: its whole body came in the same read.
                self._received_body = n
                self._remaining = 0
                self._state = _S_DONE
                if n:
                    events.append(Data(data[end:] if type(data) is bytes else bytes(data[end:])))
                events.append(EndOfMessage())
                return True
            self._state = _S_LENGTH if length else _S_DONE
            if not length:
                events.append(EndOfMessage())
        else:
            head.keep_alive = False
            content_length = _raw_values(raw, low, "\r\ncontent-length:")
            transfer_encoding = _raw_values(raw, low, "\r\ntransfer-encoding:")
            connection = _raw_values(raw, low, "\r\nconnection:") or None
            if len(content_length) + len(transfer_encoding) > 1 or (connection is not None and len(connection) > 1):
                # A framing field twice, or both framings (a smuggling pattern): the full path.
                return False
            if (content_length and not content_length[0].isdigit()) or (
                transfer_encoding and transfer_encoding[0].lower() != "chunked"
            ):
                return False  # a list, a bad length or another coding: judged by the full path
            self._frame(head, content_length, transfer_encoding, connection, events)
        if end < len(data):
            rest = data[end:]
            n = len(rest)
            if self._state == _S_LENGTH and n <= self._remaining:
                # A body that came in part with its head.
                events.append(Data(bytes(rest)))
                self._remaining -= n
                self._received_body += n
                if not self._remaining:
                    self._state = _S_DONE
                    events.append(EndOfMessage())
            else:
                self._buf += rest
                self._run(events)
        return True

    def _common_length(self, status: int, version: str, raw: str, low: str) -> int:
        """The Content-Length of the usual response, decided from the fast path's text (its
        keep-alive left in ``_common_keep_alive``); -1 to leave the framing to :meth:`_frame`.

        Usual: a body framed by one plain Content-Length (digits only, at most 19), no
        Transfer-Encoding, at most one Connection field holding ``keep-alive`` or ``close``, a
        status with a body (not 204 or 304) to a request that expects one (not HEAD or CONNECT).
        For such a head this decides what :meth:`_frame` would (RFC 9112 6.3 point 5, and the
        connection's fate), without building the field value lists; the split-invariance and
        fast-path agreement tests hold the two to the same answers.
        """
        if self._method_head or self._method_connect or status == 204 or status == 304:
            return -1
        i = low.find("\r\ncontent-length:")
        if i < 0 or "\r\ntransfer-encoding:" in low:
            return -1
        e = low.find("\r\n", i + 17)
        if low.find("\r\ncontent-length:", e) >= 0:
            return -1
        value = raw[i + 17 : e].strip(" \t")
        if not value.isdigit() or not value.isascii() or len(value) > 19:
            return -1
        i = low.find("\r\nconnection:")
        if i < 0:
            self._common_keep_alive = version == "1.1"
        else:
            e = low.find("\r\n", i + 13)
            if low.find("\r\nconnection:", e) >= 0:
                return -1
            token = low[i + 13 : e].strip(" \t")
            if token == "keep-alive":
                self._common_keep_alive = True
            elif token == "close":
                self._common_keep_alive = False
            else:
                return -1
        return int(value)

    def _find_section_end(self) -> int:
        """Index just past the blank line ending a header section, or -1 if not there yet."""
        buf = self._buf
        start = max(self._scan_from - 3, 0)
        if start == 0 and (buf[:2] == b"\r\n" or buf[:1] == b"\n"):
            # An empty section (no fields): the blank line comes first.
            return 2 if buf[:2] == b"\r\n" else 1
        idx = buf.find(b"\r\n\r\n", start)
        if idx >= 0 and buf.find(b"\n\n", start, idx) < 0 and buf.find(b"\n\r\n", start, idx + 2) < 0:
            # The usual CRLF ending, and no bare-LF blank line before it.
            self._scan_from = 0
            return idx + 4
        m = _HEAD_END.search(buf, start)
        if m is None:
            self._scan_from = len(buf)
            return -1
        self._scan_from = 0
        return m.end()

    def _head(self, events: list[Event]) -> bool:
        buf = self._buf
        limits = self._limits
        # Tolerate blank lines before the status line (RFC 9112 2.2 allows ignoring them), but
        # not without end: they count against the line length limit.
        while buf[:2] == b"\r\n" or buf[:1] == b"\n":
            n = 2 if buf[:1] == b"\r" else 1
            del buf[:n]
            self._blank_lines += n
            if self._blank_lines > limits.max_line_length:
                raise ProtocolError(
                    f"more than max_line_length={limits.max_line_length} bytes of blank lines before the status line"
                )
        if not buf:
            return False
        if len(buf) >= 5 and buf[:5] != b"HTTP/":
            raise ProtocolError(f"response does not start with an HTTP/1.x status line: {bytes(buf[:40])!r}")
        end = self._find_section_end()
        if end < 0:
            if len(buf) > limits.max_header_bytes:
                raise ProtocolError(
                    f"response head exceeds max_header_bytes={limits.max_header_bytes}"
                )
            if _line_too_long(buf, limits.max_line_length):
                raise ProtocolError(f"status line exceeds max_line_length={limits.max_line_length}")
            if _last_line_too_long(buf, limits.max_line_length):
                raise ProtocolError(f"header line exceeds max_line_length={limits.max_line_length}")
            return False
        if end > limits.max_header_bytes:
            raise ProtocolError(f"response head exceeds max_header_bytes={limits.max_header_bytes}")
        text = buf[:end].decode("latin-1")
        del buf[:end]
        nl = text.find("\n")
        status_line = text[:nl].removesuffix("\r")
        if len(status_line) > limits.max_line_length:
            raise ProtocolError(f"status line exceeds max_line_length={limits.max_line_length}")
        m = _STATUS_LINE.fullmatch(status_line)
        if m is None:
            raise ProtocolError(f"malformed status line {status_line[:100]!r}")
        major, minor, code, reason = m.groups()
        if major == "0" and minor == "9" and limits.http09_status_as_10:
            major, minor = "1", "0"
        if major != "1":
            raise ProtocolError(f"unsupported HTTP version {major}.{minor} in status line")
        status = int(code)
        if status < 100:
            raise ProtocolError(f"invalid status code {status}")
        reason = reason or ""
        if "\r" in reason or "\x00" in reason:
            raise ProtocolError("status line holds a CR or NUL")
        headers, index = self._section(text[nl + 1 :], "header")
        http_version = "1.1" if minor != "0" else "1.0"

        if 100 <= status < 200 and status != 101:
            self._informational += 1
            if self._informational > limits.max_informational:
                raise ProtocolError(
                    f"more than max_informational={limits.max_informational} interim 1xx responses"
                )
            events.append(Informational(status, reason, headers))
            return True
        head = ResponseHead(status, reason, http_version, headers, False)
        head.index = index
        self._frame(
            head, index.get("content-length", []), index.get("transfer-encoding", []), index.get("connection"), events
        )
        return True

    def _section(self, block: str, what: str) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
        """The fields of a header or trailer section (``block`` ends with its blank line).

        Also returns them indexed by lower-cased name: the parser needs three of them for
        framing, and the Headers of the response reuse the index for every lookup.
        """
        limits = self._limits
        index: dict[str, list[str]] = {}
        if len(block) <= limits.max_line_length and _CLEAN_SECTION.fullmatch(block) is not None:
            # Common case: CRLF lines, token names, no folding, no CR/NUL in values (all checked
            # by the one regex above), so the first colon of each line ends the name.
            lines = block.split("\r\n")
            del lines[-2:]
            if len(lines) > limits.max_header_count:
                raise ProtocolError(f"more than max_header_count={limits.max_header_count} {what} fields")
            fields = []
            for line in lines:
                name, _, value = line.partition(":")
                value = value.strip(" \t")
                fields.append((name, value))
                key = name.lower()
                seen = index.get(key)
                if seen is None:
                    index[key] = [value]
                else:
                    seen.append(value)
            return fields, index
        # Anything else (bare LF, obs-fold, bad bytes, long lines): line by line, with precise errors.
        lines = block.split("\n")
        # The section ends with an empty line, giving two trailing empty strings after split.
        del lines[-2:]
        fields = self._fields(lines, 0, what)
        for name, value in fields:
            index.setdefault(name.lower(), []).append(value)
        return fields, index

    def _fields(self, lines: list[str], start: int, what: str) -> list[tuple[str, str]]:
        limits = self._limits
        if len(lines) - start > limits.max_header_count:
            raise ProtocolError(f"more than max_header_count={limits.max_header_count} {what} fields")
        fields: list[tuple[str, str]] = []
        max_line = limits.max_line_length
        token = _TOKEN.fullmatch
        for i in range(start, len(lines)):
            line = lines[i]
            if line[-1:] == "\r":
                line = line[:-1]
            if len(line) > max_line:
                raise ProtocolError(f"{what} line exceeds max_line_length={max_line}")
            if line[:1] in (" ", "\t"):
                # obs-fold (RFC 9112 5.2): a user agent replaces it with SP before interpreting.
                if not fields:
                    raise ProtocolError(f"{what} section starts with a continuation line")
                name, value = fields[-1]
                folded = line.strip(" \t")
                if _INVALID_VALUE_CHARS.search(folded) is not None:
                    raise ProtocolError(f"{what} {name!r} holds a CR or NUL")
                fields[-1] = (name, (value + " " + folded).strip(" \t"))
                continue
            colon = line.find(":")
            if colon <= 0:
                raise ProtocolError(f"malformed {what} line {line[:100]!r}")
            name = line[:colon]
            if token(name) is None:
                # Includes whitespace between name and colon (RFC 9112 5.1: a smuggling vector).
                raise ProtocolError(f"invalid {what} name {name[:100]!r}")
            value = line[colon + 1 :].strip(" \t")
            if _INVALID_VALUE_CHARS.search(value) is not None:
                raise ProtocolError(f"{what} {name!r} holds a CR or NUL")
            fields.append((name, value))
        return fields

    def _frame(
        self,
        head: ResponseHead,
        content_lengths: list[str],
        transfer_encodings: list[str],
        connection: list[str] | None,
        events: list[Event],
    ) -> None:
        """Decide the body's framing and the connection's fate (RFC 9112 6.3) from the values of
        the three framing fields, then emit ``head``. Both the full parser and the fast path
        end here, but for the one usual case the fast path decides itself (:meth:`_common_length`:
        one plain Content-Length, keep-alive or close); the fast-path tests hold the two to the
        same answers."""
        status = head.status
        http_version = head.http_version
        transfer_encoding: list[str] = []
        for value in transfer_encodings:
            transfer_encoding.extend(v.strip(" \t").lower() for v in value.split(",") if v.strip(" \t"))
        if connection is None:
            keep_alive = http_version == "1.1"
        elif len(connection) == 1 and (token := connection[0].lower()) in ("keep-alive", "close"):
            keep_alive = token == "keep-alive"
        else:
            conn = {t.strip(" \t") for value in connection for t in value.lower().split(",")}
            if http_version == "1.1":
                keep_alive = "close" not in conn
            else:
                keep_alive = "keep-alive" in conn and "close" not in conn

        # RFC 9112 6.3, in order.
        if self._method_head or status in (204, 304) or status == 101:
            state = _S_DONE
            if status == 101:
                keep_alive = False  # the connection now speaks another protocol
        elif self._method_connect and 200 <= status < 300:
            state = _S_DONE
            keep_alive = False  # it became a tunnel; never back to the pool
        elif transfer_encoding:
            if transfer_encoding[-1] != "chunked":
                # Not chunked last: the body runs until close (RFC 9112 6.3 point 4).
                state = _S_UNTIL_CLOSE
                keep_alive = False
            else:
                if transfer_encoding.count("chunked") > 1:
                    raise ProtocolError("Transfer-Encoding lists chunked more than once")
                unsupported = [c for c in transfer_encoding[:-1] if c != "identity"]
                if unsupported:
                    raise ProtocolError(f"unsupported transfer coding {unsupported[0]!r}")
                state = _S_CHUNK_SIZE
                if content_lengths:
                    # Both framings present: chunked wins, but a peer sending both is confused
                    # (or a smuggling attempt); do not trust this connection again.
                    keep_alive = False
                if http_version == "1.0":
                    keep_alive = False
        elif content_lengths:
            if len(content_lengths) == 1 and "," not in content_lengths[0]:
                value = content_lengths[0]
            else:
                values = {v.strip(" \t") for cl in content_lengths for v in cl.split(",")}
                if len(values) != 1:
                    raise ProtocolError(f"conflicting Content-Length values {sorted(values)}")
                value = values.pop()
            if not value.isdigit() or not value.isascii() or len(value) > 19:
                raise ProtocolError(f"invalid Content-Length {value[:40]!r}")
            length = int(value)
            self._content_length = length
            self._remaining = length
            state = _S_LENGTH if length else _S_DONE
        else:
            state = _S_UNTIL_CLOSE
            keep_alive = False

        self.keep_alive = head.keep_alive = keep_alive
        self.head = head
        events.append(head)
        self._state = state
        if state == _S_DONE:
            events.append(EndOfMessage())

    def _chunk_size(self) -> bool:
        buf = self._buf
        nl = buf.find(b"\n")
        limit = self._limits.max_chunk_line_length
        if _line_too_long(buf, limit):
            raise ProtocolError(f"chunk-size line exceeds max_chunk_line_length={limit}")
        if nl < 0:
            return False
        line = bytes(buf[:nl])
        if line.endswith(b"\r"):
            line = line[:-1]
        m = _CHUNK_SIZE.fullmatch(line)
        if m is None or b"\r" in line:
            raise ProtocolError(f"invalid chunk size line {line[:40]!r}")
        del buf[: nl + 1]
        size = int(m.group(1), 16)
        if size == 0:
            self._state = _S_TRAILERS
        else:
            self._remaining = size
            self._state = _S_CHUNK_DATA
        return True

    def _trailers(self, events: list[Event]) -> bool:
        buf = self._buf
        end = self._find_section_end()
        limit = self._limits.max_header_bytes
        if end < 0:
            if len(buf) > limit:
                raise ProtocolError(f"trailer section exceeds max_header_bytes={limit}")
            max_line = self._limits.max_line_length
            if _last_line_too_long(buf, max_line):
                raise ProtocolError(f"trailer line exceeds max_line_length={max_line}")
            return False
        if end > limit:
            raise ProtocolError(f"trailer section exceeds max_header_bytes={limit}")
        text = buf[:end].decode("latin-1")
        del buf[:end]
        trailers = self._section(text, "trailer")[0]
        self._finish(events, trailers)
        return True

    def _finish(self, events: list[Event], trailers: list[tuple[str, str]] | None) -> None:
        self._state = _S_DONE
        events.append(EndOfMessage(trailers))
        if self._buf:
            self.trailing_data += bytes(self._buf)
            self._buf.clear()
