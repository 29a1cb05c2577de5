"""``urllib.response``'s twin, and the response object :func:`netwire.request.urlopen` returns.

* :class:`HTTPResponse` is what an ``http:``/``https:`` URL gives: the API of
  ``http.client.HTTPResponse`` as urllib hands it out (``read``, ``read1``, ``readinto``,
  ``readline``, iteration, ``getheader``, ``info()``, ``status``, ``reason``, ``msg``...), over
  a netwire :class:`~netwire.models.Response` whose body is still on its pooled connection.
  Reading it to the end (or closing it with little left to read) hands the connection back to
  the pool; closing it with much left closes it.
* :class:`addinfourl` (and :class:`addbase`, :class:`addclosehook`, :class:`addinfo`) wrap a
  file object as ``file:``, ``data:`` and ``ftp:`` responses, as in ``urllib.response``.
* :class:`HTTPMessage` is the ``email.message.Message`` the headers are read through
  (``get``, ``get_all``, ``items``, ``[]``, ``get_content_type``, ``get_param``...).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .http.models import Response

if TYPE_CHECKING:
    from email.message import Message

# urllib.response's names (HTTPResponse and HTTPMessage are importable by name too, but they are
# http.client's in urllib, so `import *` does not bring them).
__all__ = ["addbase", "addclosehook", "addinfo", "addinfourl"]

# Error bodies up to this size are read at once, so their connection goes back to the pool
# even if the caller never reads (or closes) the HTTPError.
_ERROR_BODY_PREFETCH = 64 * 1024
_CHUNK = 64 * 1024
# The longest close() waits for the rest of a small body it drains.
_DRAIN_WAIT = 1.0


_message_class: Any = None


def _http_message_class() -> type[Message]:
    """``HTTPMessage``, defined on first use: the email package costs milliseconds to import,
    and a program that never looks at a header message should not pay for it."""
    global _message_class
    if _message_class is None:
        import email.message

        class HTTPMessage(email.message.Message):
            """Response headers as ``email.message.Message`` (what ``http.client`` hands out)."""

            def getallmatchingheaders(self, name: str) -> list[str]:
                """Every header line (``"Name: value"``) whose name is ``name``, case-insensitively."""
                key = name.lower()
                return [f"{k}: {v}" for k, v in self._headers if k.lower() == key]  # type: ignore[attr-defined]

        HTTPMessage.__module__ = __name__
        _message_class = HTTPMessage
    return _message_class  # type: ignore[no-any-return]


def __getattr__(name: str) -> Any:
    if name == "HTTPMessage":
        return _http_message_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_message(items: Iterable[tuple[str, str]]) -> Message:
    """An ``HTTPMessage`` (an ``email.message.Message``) holding these (name, value) fields, in order."""
    message = _http_message_class()()
    message._headers = list(items)  # type: ignore[attr-defined]
    return message


class HTTPResponse(io.BufferedIOBase):
    """An HTTP response as ``urllib.request.urlopen`` returns it (``http.client.HTTPResponse``'s API).

    ``msg`` is the reason phrase (urllib overwrites http.client's ``msg`` with it); the header
    message is ``headers`` / ``info()``. ``length`` counts the body bytes still to come (None
    when the length is unknown). ``isclosed()`` is true once the body has been read to its end
    (its connection is then back in the pool); ``closed`` once ``close()`` was called. Closing a
    response with at most 64 KiB of its body left reads that rest, so the connection is reused.
    """

    def __init__(self, response: Response, url: str, *, method: str = "GET", debuglevel: int = 0) -> None:
        self._nw = response
        self._buf = b""
        self._done = False
        self._error: BaseException | None = None
        self._message: Message | None = None
        status = response.status
        self.status = self.code = status
        self.reason = response.reason
        self.msg: Any = response.reason
        self.version = 10 if response.http_version == "1.0" else 11
        self.debuglevel = debuglevel
        self.url = url
        self.method = method
        # One pass over the fields for the three this object describes itself by.
        te = cl = connection = ""
        for name, value in response.headers._items:
            lname = name.lower()
            if lname == "content-length":
                cl = value
            elif lname == "transfer-encoding":
                te += value
            elif lname == "connection":
                connection += value.lower()
        self.chunked = "chunked" in te.lower()
        length: int | None = None
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            length = 0
        elif cl and not self.chunked:
            try:
                length = int(cl)
            except ValueError:
                length = None
            else:
                if length < 0:
                    length = None
        self.length = length
        self.will_close = "close" in connection or (self.version == 10 and "keep-alive" not in connection)

    # -- headers -------------------------------------------------------------------------------

    @property
    def headers(self) -> Message:
        """The header fields as an ``email.message.Message`` (built on first use)."""
        message = self._message
        if message is None:
            message = self._message = make_message(self._nw.headers.multi_items())
        return message

    @headers.setter
    def headers(self, value: Message) -> None:
        self._message = value

    def info(self) -> Message:
        """The header message (``headers``)."""
        return self.headers

    def getheader(self, name: str, default: Any = None) -> Any:
        """The value of header ``name`` (repeated fields joined by ", "), or ``default``."""
        values = self._nw.headers.get_list(name)
        if not values:
            if isinstance(default, str) or not hasattr(default, "__iter__"):
                return default
            return ", ".join(default)
        return ", ".join(values)

    def getheaders(self) -> list[tuple[str, str]]:
        """All (name, value) header fields, in the order received."""
        return self._nw.headers.multi_items()

    def geturl(self) -> str:
        """The URL of the resource fetched (after redirects)."""
        return self.url

    def getcode(self) -> int:
        """The HTTP status code."""
        return self.status

    # -- body ----------------------------------------------------------------------------------

    def _finish(self) -> None:
        self._done = True
        if self.length is not None:
            self.length = 0
        self._nw.close()

    def _count(self, data: bytes) -> bytes:
        if self.length is not None:
            self.length = max(self.length - len(data), 0)
        return data

    def readable(self) -> bool:
        return True

    def isclosed(self) -> bool:
        """True once the body was read to its end, or the response closed."""
        return self._done

    def _raise_pending(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error

    def read(self, amt: int | None = None) -> bytes:
        """Read up to ``amt`` bytes (all that is left when ``amt`` is None or negative)."""
        if self._done and not self._buf:
            self._raise_pending()
            return b""
        if amt is None or amt < 0:
            buf, self._buf = self._buf, b""
            if self._done:
                return self._count(buf)
            data = self._nw.read()
            self._finish()
            return self._count(buf + data if buf else data)
        if amt == 0:
            return b""
        if self._buf:
            if len(self._buf) >= amt:
                data, self._buf = self._buf[:amt], self._buf[amt:]
                return self._count(data)
            parts = [self._buf]
            have = len(self._buf)
            self._buf = b""
        else:
            if self._done:
                return b""
            data = self._nw.read(amt)
            if len(data) == amt:
                return self._count(data)
            if not data:
                self._finish()
                return b""
            parts = [data]
            have = len(data)
        while have < amt and not self._done:
            try:
                chunk = self._nw.read(amt - have)
            except Exception as exc:
                # Hand out what arrived before the failure; the next read raises it.
                self._error = exc
                self._done = True
                break
            if not chunk:
                self._finish()
                break
            parts.append(chunk)
            have += len(chunk)
        return self._count(b"".join(parts))

    def read1(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes with at most one read from the connection."""
        if self._buf:
            if n < 0 or n >= len(self._buf):
                data, self._buf = self._buf, b""
            else:
                data, self._buf = self._buf[:n], self._buf[n:]
            return self._count(data)
        if self._done or n == 0:
            return b""
        data = self._nw.read(n if n > 0 else _CHUNK)
        if not data:
            self._finish()
        return self._count(data)

    def readinto(self, b: Any) -> int:
        """Read into the writable buffer ``b`` until it is full or the body ends; returns the count."""
        view = memoryview(b).cast("B")
        size = len(view)
        n = 0
        if self._buf:
            n = min(len(self._buf), size)
            view[:n] = self._buf[:n]
            self._buf = self._buf[n:]
        if n == 0:
            self._raise_pending()
        while n < size and not self._done:
            try:
                k = self._nw.readinto(view[n:])
            except Exception as exc:
                if n == 0:
                    raise
                self._error = exc
                self._done = True
                break
            if k == 0:
                self._finish()
                break
            n += k
        if self.length is not None:
            self.length = max(self.length - n, 0)
        return n

    def peek(self, n: int = 0) -> bytes:
        """Bytes available without consuming them (reads once from the connection if none are)."""
        if not self._buf and not self._done:
            data = self._nw.read(_CHUNK)
            if data:
                self._buf = data
            else:
                self._finish()
        return self._buf

    def readline(self, limit: int | None = -1) -> bytes:
        """One line, up to and including b"\\n" (at most ``limit`` bytes when given)."""
        if limit is None:
            limit = -1
        buf = self._buf
        while True:
            i = buf.find(b"\n")
            if i >= 0 and (limit < 0 or i < limit):
                line, self._buf = buf[: i + 1], buf[i + 1 :]
                return self._count(line)
            if 0 <= limit <= len(buf):
                line, self._buf = buf[:limit], buf[limit:]
                return self._count(line)
            if self._done:
                self._buf = b""
                return self._count(buf)
            chunk = self._nw.read(_CHUNK)
            if not chunk:
                self._finish()
            else:
                buf += chunk

    def fileno(self) -> int:
        """The file descriptor of the connection the body is read from."""
        conn = getattr(self._nw.raw, "_conn", None)
        sock = getattr(conn, "sock", None)
        if sock is None:
            raise ValueError("the response has no open connection (its body was read or it was closed)")
        return int(sock.fileno())

    def _prefetch(self, limit: int = _ERROR_BODY_PREFETCH) -> None:
        """Buffer a small rest of the body so the connection is released now."""
        if self._done:
            return
        if self.length is not None and self.length > limit:
            return
        parts = [self._buf]
        have = len(self._buf)
        while have <= limit:
            chunk = self._nw.read(_CHUNK)
            if not chunk:
                self._finish()
                break
            parts.append(chunk)
            have += len(chunk)
        self._buf = b"".join(parts)

    def _drain_rest(self) -> None:
        """Read a small, announced rest of the body so its connection can go back to the pool.

        Only a Content-Length body with at most 64 KiB to go, and never waiting more than a
        second for it: a bigger or slower rest is cheaper to drop with its connection.
        """
        if self._error is not None or self.length is None or self.length > _ERROR_BODY_PREFETCH:
            return
        raw = self._nw.raw
        if hasattr(raw, "_read_timeout"):
            current = raw._read_timeout
            raw._read_timeout = _DRAIN_WAIT if current is None else min(current, _DRAIN_WAIT)
        try:
            while self._nw.read(_CHUNK):
                pass
        except Exception:
            return  # the body's connection was closed by the failure

    def close(self) -> None:
        """Close the response. A body not read to its end is drained if a little of it is left
        (the connection goes back to the pool), or its connection is closed."""
        try:
            super().close()
        finally:
            if not self._done:
                self._done = True
                self._drain_rest()
                self._nw.close()
            self._buf = b""

    def __repr__(self) -> str:
        return f"<netwire.response.HTTPResponse [{self.status} {self.reason}] {self.url}>"


class addbase:
    """A file object wrapper whose other attributes are the wrapped object's (``fp``)."""

    def __init__(self, fp: Any) -> None:
        self.fp = fp

    def __getattr__(self, name: str) -> Any:
        fp = self.__dict__.get("fp")
        if fp is None or name.startswith("__"):
            raise AttributeError(name)
        return getattr(fp, name)

    def read(self, *args: Any) -> Any:
        return self.fp.read(*args)

    def readline(self, *args: Any) -> Any:
        return self.fp.readline(*args)

    def readlines(self, *args: Any) -> Any:
        return self.fp.readlines(*args)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fp)

    @property
    def closed(self) -> bool:
        return bool(getattr(self.fp, "closed", False))

    def close(self) -> None:
        fp = self.fp
        if fp is not None:
            fp.close()

    def __enter__(self) -> Any:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} at {id(self)!r} whose fp = {self.fp!r}>"


class addclosehook(addbase):
    """A file wrapper that calls ``closehook(*hookargs)`` (once) when closed."""

    def __init__(self, fp: Any, closehook: Callable[..., Any], *hookargs: Any) -> None:
        super().__init__(fp)
        self.closehook: Callable[..., Any] | None = closehook
        self.hookargs = hookargs

    def close(self) -> None:
        try:
            hook, self.closehook = self.closehook, None
            if hook is not None:
                hook(*self.hookargs)
                self.hookargs = ()
        finally:
            super().close()


class addinfo(addbase):
    """A file wrapper with an ``info()`` method (the header message)."""

    def __init__(self, fp: Any, headers: Any) -> None:
        super().__init__(fp)
        self.headers = headers

    def info(self) -> Any:
        return self.headers


class addinfourl(addinfo):
    """A file wrapper with ``info()``, ``geturl()``, ``getcode()``, ``url`` and ``status``."""

    def __init__(self, fp: Any, headers: Any, url: str, code: int | None = None) -> None:
        super().__init__(fp, headers)
        self.url = url
        self.code = code

    @property
    def status(self) -> int | None:
        return self.code

    def getcode(self) -> int | None:
        return self.code

    def geturl(self) -> str:
        return self.url
