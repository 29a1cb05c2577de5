"""The data netwire's client passes around: Headers, Timeout, Limits, Request, Response."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Protocol

from .._types import HeaderTypes  # named once, in _types.py (re-exported for old imports)
from ..errors import HTTPStatusError, StreamError
from .http11 import split_raw_fields

if TYPE_CHECKING:
    from ..url import URL

__all__ = ["Headers", "Limits", "Request", "Response", "Timeout"]



class Headers(MutableMapping[str, str]):
    """HTTP header fields: case-insensitive, ordered, multi-valued.

    ``h[name]`` joins repeated fields with ", " (RFC 9110 5.3); ``get_list(name)`` gives them one
    by one (use it for Set-Cookie). ``multi_items()`` is the raw list in arrival order.
    """

    __slots__ = ("_index", "_items", "_low", "_raw")
    _items: list[tuple[str, str]]
    # Lower-cased name -> values, built on the first lookup and dropped on any change: a
    # response's headers are asked for several names (encoding, cookies, location...).
    _index: dict[str, list[str]] | None
    # Headers of a response head the parser's fast path read: the validated section as text
    # ("\r\nName: value\r\n...\r\n") and its lower-cased copy. Until ``_items`` is first read
    # (it is then split from ``_raw``, and ``_raw`` dropped), a lookup of a name that occurs at
    # most once is answered by searching the text: most responses are asked for a few names and
    # never listed, so the list and the index are never built.
    _raw: str | None
    _low: str | None

    def __init__(self, headers: HeaderTypes = None) -> None:
        items: list[tuple[str, str]]
        if headers is None:
            items = []
        elif isinstance(headers, Headers):
            items = list(headers._items)
        elif isinstance(headers, Mapping):
            items = [(str(k), str(v)) for k, v in headers.items()]
        else:
            items = [(str(k), str(v)) for k, v in headers]
        self._items = items
        self._index = None
        self._raw = None

    @classmethod
    def _from_list(cls, items: list[tuple[str, str]], index: dict[str, list[str]] | None = None) -> Headers:
        # Trusted input from the parser: no copy, no conversion (and its index, if it built one).
        h = cls.__new__(cls)
        h._items = items
        h._index = index
        h._raw = None
        return h

    @classmethod
    def _from_raw(cls, raw: str, low: str | None = None) -> Headers:
        # A section the parser's fast path validated (ResponseHead.raw_fields, with its lower-
        # cased copy when the parser has it); ``_items`` stays an unset slot until read (see
        # __getattr__).
        h = cls.__new__(cls)
        h._raw = raw
        h._low = low
        h._index = None
        return h

    if not TYPE_CHECKING:  # hidden from mypy, or every misspelt attribute would type-check

        def __getattr__(self, name):
            # Only called for an unset slot, i.e. ``_items`` of headers made by _from_raw.
            if name == "_items" and self._raw is not None:
                self._items = split_raw_fields(self._raw)
                self._raw = self._low = None  # from now on the list is the truth (it may change)
                return self._items
            raise AttributeError(name)

    def _raw_find(self, name: str) -> str | bool | None:
        """Look ``name`` up in the raw section: its value, None if absent, or False when the
        raw text cannot answer (the name occurs more than once, or could straddle lines)."""
        raw = self._raw
        if raw is None or ":" in name or "\n" in name or "\r" in name:
            return False
        low = self._low
        if low is None:
            low = self._low = raw.lower()  # same length as raw: Latin-1 lower-cases 1:1
        key = "\r\n" + name.lower() + ":"
        i = low.find(key)
        if i < 0:
            return None
        j = i + len(key)
        e = low.find("\r\n", j)
        if low.find(key, e) >= 0:
            return False
        return raw[j:e].strip(" \t")

    def _surely_lacks(self, prefix: str) -> bool:
        """True when these headers hold a raw section (see ``_from_raw``) with no field whose
        ``"\\r\\n" + lower-cased name`` starts with ``prefix``; False when unsure (then ask as usual).
        One search of the text instead of a lookup per name, for the client's hot path."""
        raw = self._raw
        if raw is None:
            return False
        low = self._low
        if low is None:
            low = self._low = raw.lower()
        return prefix not in low

    def _lookup(self) -> dict[str, list[str]]:
        index = self._index
        if index is None:
            index = {}
            for k, v in self._items:
                lk = k.lower()
                values = index.get(lk)
                if values is None:
                    index[lk] = [v]
                else:
                    values.append(v)
            self._index = index
        return index

    def __getitem__(self, name: str) -> str:
        if self._raw is not None and self._index is None:
            found = self._raw_find(name)
            if found is None:
                raise KeyError(name)
            if found is not False:
                return found  # type: ignore[return-value]
        values = self._lookup().get(name.lower())
        if values is None:
            raise KeyError(name)
        return values[0] if len(values) == 1 else ", ".join(values)

    def get(self, name: str, default: Any = None) -> Any:
        if self._raw is not None and self._index is None:
            found = self._raw_find(name)
            if found is None:
                return default
            if found is not False:
                return found
        values = self._lookup().get(name.lower())
        if values is None:
            return default
        return values[0] if len(values) == 1 else ", ".join(values)

    def get_list(self, name: str) -> list[str]:
        """Every value of field ``name``, in order (empty list if absent)."""
        return list(self._lookup().get(name.lower(), ()))

    get_all = get_list

    def __setitem__(self, name: str, value: str) -> None:
        key = name.lower()
        self._index = None
        for i, (k, _) in enumerate(self._items):
            if k.lower() == key:
                self._items[i] = (name, value)
                self._items[i + 1 :] = [(k2, v2) for k2, v2 in self._items[i + 1 :] if k2.lower() != key]
                return
        self._items.append((name, value))

    def add(self, name: str, value: str) -> None:
        """Append one more field ``name`` (keeps existing ones)."""
        self._index = None
        self._items.append((name, value))

    def setdefault(self, name: str, value: str = "") -> str:
        current = self.get(name)
        if current is None:
            self.add(name, value)
            return value
        return str(current)

    def __delitem__(self, name: str) -> None:
        key = name.lower()
        kept = [(k, v) for k, v in self._items if k.lower() != key]
        if len(kept) == len(self._items):
            raise KeyError(name)
        self._items = kept
        self._index = None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if self._raw is not None and self._index is None:
            found = self._raw_find(name)
            if found is not False:
                return found is not None
        return name.lower() in self._lookup()

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for k, _ in self._items:
            lk = k.lower()
            if lk not in seen:
                seen.add(lk)
                yield k

    def __len__(self) -> int:
        return len(self._lookup())

    def multi_items(self) -> list[tuple[str, str]]:
        """All fields as (name, value) pairs, repeated names included, in order."""
        return list(self._items)

    def copy(self) -> Headers:
        return Headers._from_list(list(self._items))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            o = other._items
        elif isinstance(other, Mapping):
            o = list(other.items())
        else:
            return NotImplemented
        return sorted((k.lower(), v) for k, v in self._items) == sorted((k.lower(), v) for k, v in o)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class Timeout:
    """Deadlines for one request, in seconds (None: no limit).

    ``connect``: TCP + TLS (+ proxy) handshake; ``read``: longest wait for any byte of the
    response; ``write``: longest stall while sending; ``pool``: longest wait for a free
    connection; ``total``: the whole request, redirects and retries included.
    A plain number sets connect, read, write and pool alike.
    """

    __slots__ = ("connect", "pool", "read", "total", "write")

    def __init__(
        self,
        timeout: float | Timeout | None = 30.0,
        *,
        connect: float | object | None = ...,
        read: float | object | None = ...,
        write: float | object | None = ...,
        pool: float | object | None = ...,
        total: float | None = None,
    ) -> None:
        if isinstance(timeout, Timeout):
            base: tuple[float | None, ...] = (timeout.connect, timeout.read, timeout.write, timeout.pool)
            total = timeout.total if total is None else total
        else:
            base = (timeout,) * 4
        self.connect: float | None = base[0] if connect is ... else connect  # type: ignore[assignment]
        self.read: float | None = base[1] if read is ... else read  # type: ignore[assignment]
        self.write: float | None = base[2] if write is ... else write  # type: ignore[assignment]
        self.pool: float | None = base[3] if pool is ... else pool  # type: ignore[assignment]
        self.total: float | None = total
        for name in ("connect", "read", "write", "pool", "total"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int | float) or v < 0):
                raise ValueError(f"timeout {name} must be a non-negative number or None, not {v!r}")

    @classmethod
    def coerce(cls, value: float | Timeout | None) -> Timeout:
        return value if isinstance(value, Timeout) else cls(value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeout) and all(
            getattr(self, n) == getattr(other, n) for n in self.__slots__
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Timeout(connect={self.connect}, read={self.read}, write={self.write}, "
            f"pool={self.pool}, total={self.total})"
        )


class Limits:
    """Bounds of the connection pool."""

    __slots__ = ("keepalive_expiry", "max_connections", "max_connections_per_host", "max_idle_per_host")

    def __init__(
        self,
        *,
        max_connections: int | None = 100,
        max_connections_per_host: int | None = 20,
        max_idle_per_host: int = 20,
        keepalive_expiry: float | None = 30.0,
    ) -> None:
        self.max_connections = max_connections
        self.max_connections_per_host = max_connections_per_host
        self.max_idle_per_host = max_idle_per_host
        self.keepalive_expiry = keepalive_expiry

    def __repr__(self) -> str:
        return (
            f"Limits(max_connections={self.max_connections}, max_connections_per_host="
            f"{self.max_connections_per_host}, max_idle_per_host={self.max_idle_per_host}, "
            f"keepalive_expiry={self.keepalive_expiry})"
        )


# A request body: bytes, str, a binary file object, or an iterable of bytes (see content.py).
RequestContent = Any


class Request:
    """One HTTP request: method, URL, headers, body."""

    __slots__ = ("content", "extensions", "headers", "method", "url")

    def __init__(
        self,
        method: str,
        url: URL,
        headers: Headers | None = None,
        content: RequestContent = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers if headers is not None else Headers()
        self.content = content
        self.extensions = extensions if extensions is not None else {}

    @property
    def replayable(self) -> bool:
        """Whether the body can be sent again (for a retry or a 307/308 redirect)."""
        c = self.content
        if c is None or isinstance(c, bytes | bytearray | memoryview | str):
            return True
        return hasattr(c, "seek") and hasattr(c, "tell") and self.extensions.get("body_start") is not None

    def __repr__(self) -> str:
        return f"<Request [{self.method} {self.url}]>"


class BodyStream(Protocol):
    """What a Response reads its body from (a pooled connection, or bytes already in memory)."""

    def read(self, n: int = -1) -> bytes: ...

    def readinto(self, buffer: memoryview) -> int: ...

    def close(self) -> None: ...

    @property
    def trailers(self) -> list[tuple[str, str]]: ...


class _BytesStream:
    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            chunk = self._data[self._pos :]
        else:
            chunk = self._data[self._pos : self._pos + n]
        self._pos += len(chunk)
        return chunk

    def readinto(self, buffer: memoryview) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._pos = len(self._data)

    @property
    def trailers(self) -> list[tuple[str, str]]:
        return []


class BodySink(Protocol):
    """What :meth:`Response._tap` feeds: the raw body in pieces, then ``done()`` at its end (only
    if the whole body arrived: an error or an early close never calls it)."""

    def feed(self, data: bytes) -> None: ...

    def done(self) -> None: ...


class _TappedStream:
    """A body stream whose bytes are also shown to a :class:`BodySink`."""

    __slots__ = ("_inner", "_sink")

    def __init__(self, inner: BodyStream, sink: BodySink) -> None:
        self._inner = inner
        self._sink = sink

    def read(self, n: int = -1) -> bytes:
        data = self._inner.read(n)
        self._sink.feed(data)
        if n < 0 or (not data and n):
            self._sink.done()
        return data

    def readinto(self, buffer: memoryview) -> int:
        count = self._inner.readinto(buffer)
        if count:
            self._sink.feed(bytes(buffer[:count]))
        elif len(buffer):
            self._sink.done()
        return count

    def close(self) -> None:
        self._inner.close()

    @property
    def trailers(self) -> list[tuple[str, str]]:
        return self._inner.trailers

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)  # what callers peek at on the wrapped body (its _conn)


class Decoder(Protocol):
    """A content decoder (see :mod:`netwire.decoders`)."""

    def decode(self, chunk: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class _DecodedStream:
    """A body stream seen through a content decoder: reads give decoded bytes, bounded memory."""

    __slots__ = ("_buf", "_decoder", "_eof", "_raw", "_seen")

    def __init__(self, raw: BodyStream, decoder: Decoder) -> None:
        self._raw = raw
        self._decoder = decoder
        self._buf = bytearray()
        self._eof = False
        self._seen = False

    def _more(self) -> None:
        chunk = self._raw.read(64 * 1024)
        if chunk:
            self._seen = True
            self._buf += self._decoder.decode(chunk)
        else:
            self._eof = True
            # An empty body (204, 304, a HEAD-like answer) has nothing to flush.
            if self._seen:
                self._buf += self._decoder.flush()

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            while not self._eof:
                self._more()
            data = bytes(self._buf)
            self._buf.clear()
            return data
        while len(self._buf) < n and not self._eof:
            self._more()
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def readinto(self, buffer: memoryview) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()

    @property
    def trailers(self) -> list[tuple[str, str]]:
        return self._raw.trailers


class Response:
    """An HTTP response. The body is read lazily from ``stream``; ``content`` reads it all.

    With a ``decoder`` (a Content-Encoding netwire decodes), ``read()`` and friends give decoded
    bytes; ``raw`` is the undecoded body stream (read one or the other, not both).
    """

    __slots__ = (
        "_content",
        "_encoding",
        "_eof",
        "_failed",
        "_stream",
        "attempts",
        "closed",
        "elapsed",
        "extensions",
        "headers",
        "history",
        "http_version",
        "raw",
        "reason",
        "request",
        "status",
        "url",
    )

    def __init__(
        self,
        status: int,
        *,
        reason: str = "",
        http_version: str = "1.1",
        headers: Headers | None = None,
        stream: BodyStream | None = None,
        content: bytes | None = None,
        request: Request | None = None,
        url: URL | None = None,
        decoder: Decoder | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.http_version = http_version
        self.headers = headers if headers is not None else Headers()
        self.request = request
        if url is None:
            if request is not None:
                url = request.url
            else:  # built by hand (a test double, an error reply): it came from nowhere
                from ..url import URL

                url = URL("about:blank")
        self.url: URL = url
        self.history: list[Response] = []
        self.elapsed = 0.0
        #: How many times the request was sent to get this response (more than 1 after retries).
        self.attempts = 1
        self.extensions: dict[str, Any] = {}
        self._content = content
        self._encoding: str | None = None
        raw: BodyStream = stream if stream is not None else _BytesStream(content or b"")
        self.raw = raw
        self._stream: BodyStream = raw if decoder is None else _DecodedStream(raw, decoder)
        self.closed = False
        self._eof = False
        self._failed: BaseException | None = None

    @classmethod
    def _received(
        cls, head: Any, headers: Headers, request: Request, stream: BodyStream, elapsed: float, reused: bool
    ) -> Response:
        # What __init__ makes of a response read from a connection with nothing to decode (the
        # client's hot path): the same fields, without the keyword and default handling.
        r = cls.__new__(cls)
        r.status = head.status
        r.reason = head.reason
        r.http_version = head.http_version
        r.headers = headers
        r.request = request
        r.url = request.url
        r.history = []
        r.elapsed = elapsed
        r.attempts = 1
        r.extensions = {"connection_reused": reused}
        r._content = None
        r._encoding = None
        r.raw = r._stream = stream
        r.closed = False
        r._eof = False
        r._failed = None
        return r

    # -- body -------------------------------------------------------------------------------

    def read(self, n: int = -1) -> bytes:
        """Read and return up to ``n`` body bytes (all that is left if ``n`` < 0); b"" at the end.

        If reading the body failed (timeout, connection cut, bad framing), that error is raised,
        and every later read raises StreamError: a failed body never looks complete.
        """
        if self._content is not None and n < 0:
            return self._content
        if self.closed:
            self._check_readable()
            if self._eof or n == 0:
                return b""
            raise StreamError("the response is closed; its body can no longer be read")
        try:
            if n < 0:
                data = self._stream.read(-1)
                self._content = data
                self._eof = self.closed = True
                return data
            data = self._stream.read(n)
        except BaseException as exc:
            self._fail(exc)
            raise
        if not data and n:
            self._eof = self.closed = True
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        """Read body bytes into ``buffer``; returns how many (0 at the end)."""
        if self.closed:
            self._check_readable()
            if self._eof or not len(buffer):
                return 0
            raise StreamError("the response is closed; its body can no longer be read")
        try:
            n = self._stream.readinto(memoryview(buffer).cast("B"))
        except BaseException as exc:
            self._fail(exc)
            raise
        if n == 0 and len(buffer):
            self._eof = self.closed = True
        return n

    def _tap(self, sink: BodySink) -> None:
        """Show ``sink`` the body as it comes off the wire (before decoding), and tell it when the
        body ended: the HTTP cache's recorder. Called before any of the body is read."""
        tapped = _TappedStream(self.raw, sink)
        self.raw = tapped
        if isinstance(self._stream, _DecodedStream):
            self._stream._raw = tapped
        else:
            self._stream = tapped

    def _fail(self, exc: BaseException) -> None:
        # Remember the failure, and let the stream go: its connection is not reusable now.
        self._failed = exc
        self.closed = True
        try:
            self._stream.close()
        except Exception:
            pass

    def _check_readable(self) -> None:
        if self._failed is not None:
            raise StreamError(
                f"the response body failed earlier ({type(self._failed).__name__}: {self._failed}); "
                "what was read is not the whole body"
            ) from self._failed

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body in pieces: as they arrive, or of ``chunk_size`` bytes (the last may be shorter)."""
        if self._content is not None:
            data = self._content
            step = chunk_size or max(len(data), 1)
            for i in range(0, len(data), step):
                yield data[i : i + step]
            return
        size = chunk_size or 64 * 1024
        if chunk_size is None:
            while True:
                chunk = self.read(size)
                if not chunk:
                    return
                yield chunk
        pending = bytearray()
        while True:
            chunk = self.read(size)
            if not chunk:
                break
            pending += chunk
            while len(pending) >= size:
                yield bytes(pending[:size])
                del pending[:size]
        if pending:
            yield bytes(pending)

    def __iter__(self) -> Iterator[bytes]:
        return self.iter_bytes()

    @property
    def content(self) -> bytes:
        """The whole body (read on first access)."""
        if self._content is None:
            if self.closed:
                raise StreamError("the response was closed before its body was read")
            self.read()
        assert self._content is not None
        return self._content

    @property
    def trailers(self) -> Headers:
        """Trailer fields of a chunked body (available once the body was read to the end)."""
        return Headers._from_list(list(self._stream.trailers))

    @property
    def encoding(self) -> str | None:
        """The Python codec :attr:`text` decodes with, or None (then UTF-8).

        Set it to override. Otherwise the WHATWG rules decide, as a browser would: a byte order
        mark, then the ``charset`` of Content-Type, then for HTML a ``<meta charset>`` (or
        ``http-equiv``) in the first 1024 bytes, for XML the XML declaration. Labels map as
        browsers map them (``iso-8859-1`` decodes as windows-1252). On a streamed response whose
        body is still unread, only the headers are consulted.
        """
        if self._encoding is not None:
            return self._encoding
        from ._charset import sniff  # not at import time: most programs never decode a body here

        return sniff(self.headers.get("content-type"), self._content)

    @encoding.setter
    def encoding(self, value: str | None) -> None:
        if value is not None:
            import codecs

            codecs.lookup(value)  # an unknown codec fails here, not in the middle of .text
        self._encoding = value

    @property
    def text(self) -> str:
        """The body decoded with :attr:`encoding` (UTF-8 when nothing names one)."""
        # Without any declaration, UTF-8: what JSON requires (RFC 8259) and what the web overwhelmingly sends.
        content = self.content  # read first: the encoding may be declared in the body
        return content.decode(self.encoding or "utf-8", errors="replace")

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON."""
        import json  # not at import time: most programs never parse a body as JSON here

        return json.loads(self.content, **kwargs)

    def raise_for_status(self) -> Response:
        """Raise HTTPStatusError for a 4xx or 5xx status; return self otherwise."""
        if self.status >= 400:
            kind = "client error" if self.status < 500 else "server error"
            raise HTTPStatusError(
                f"{self.status} {self.reason} ({kind}) for {self.url}", request=self.request, response=self
            )
        return self

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308) and "location" in self.headers

    @property
    def status_code(self) -> int:
        """The same as :attr:`status` (the name requests and httpx use)."""
        return self.status

    @property
    def ok(self) -> bool:
        """True for a status below 400, as in requests (``raise_for_status`` raises for the others)."""
        return self.status < 400

    def close(self) -> None:
        """Release the response. If its body was not read to the end, its connection is closed."""
        if not self.closed:
            self.closed = True
            self._stream.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Response [{self.status} {self.reason}]>"
