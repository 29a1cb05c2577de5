"""The public trace hook: what happened during a request, phase by phase, with timings.

Give a callable to ``Client(trace=...)`` / ``AsyncClient(trace=...)`` (every request) or to one
request as ``request.extensions["trace"]`` (that request only; it wins over the client's). It is
called with one :class:`TraceEvent` per phase, in the order they happen, on the thread (or in the
task) doing the request. It is a plain function for both clients: the async client calls it
without awaiting (a tracer that must do I/O should queue the event, not block).

The events (``name``: the keys of ``info``):

========================  ==================================================================
``dns``                   host, port, addresses (the resolved IPs, in the order tried)
``connect``               host, port, address (the peer's ``ip:port``), peer (its socket
                          address), family (``IPv4``, ``IPv6``, ``unix``), proxy (the proxy's
                          ``host:port`` when connecting to one, else None)
``tls``                   server_name, version, cipher, alpn, ssl_object (for the peer
                          certificate: ``getpeercert()``)
``proxy.connect``         request_line (``CONNECT host:port HTTP/1.1``), status, reason
``socks5``                proxy, target (``host:port``), remote_dns
``pool.acquire``          origin, reused (True: an idle connection), waited (seconds, a new
                          connection's set-up included)
``request.head``          method, target (as on the wire: absolute-form through an HTTP
                          proxy), request_line, headers (credentials redacted)
``request.body``          bytes
``response.head``         status, reason, http_version, headers (Set-Cookie redacted); its
                          ``elapsed`` runs from the request head sent to the response head
``response.body``         bytes (as received, before decoding), complete (read to its end)
``pool.release``          origin, kept (the connection may serve another request), why
``retry``                 attempt (the one that failed, from 1), reason, delay (seconds),
                          retries_left (the coming one included, as curl counts)
``redirect``              status, location (absolute URL, a password in it redacted), method
                          (of the next request)
========================  ==================================================================

``TraceEvent.start`` is a :func:`time.monotonic` stamp; ``elapsed`` is the phase's duration
(0.0 for instant events such as ``retry``). With no hook (and the ``netwire`` logger off) a
request pays one ``is None`` check per phase.

May import: ``errors``, ``models`` (type checking only); no I/O.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .http11 import ResponseHead

__all__ = ["REDACTED", "TraceEvent", "TraceHook", "emit", "redact_headers", "redact_url", "tracer_for"]

#: What a redacted credential is replaced with.
REDACTED = "[redacted]"

#: Header names whose values are credentials: never in a trace event or a log line.
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "set-cookie2", "x-api-key"}
)


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One phase of a request: its ``name``, when it began (``start``, :func:`time.monotonic`),
    how long it took (``elapsed``, seconds) and what it found (``info``: see the module doc)."""

    name: str
    start: float
    elapsed: float
    info: Mapping[str, Any]


#: The hook's type: called once per event; its return value is ignored.
TraceHook = Callable[[TraceEvent], object]


def emit(trace: TraceHook, name: str, start: float, **info: Any) -> None:
    """Call ``trace`` with the event ``name`` begun at ``start`` (ends now)."""
    trace(TraceEvent(name, start, time.monotonic() - start, info))


def redact_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` with the value of every credential-bearing field replaced by :data:`REDACTED`,
    and a password in a ``Location`` / ``Content-Location`` URL too."""
    out = []
    for k, v in headers:
        name = k.lower()
        if name in _SECRET_HEADERS:
            v = REDACTED
        elif name in ("location", "content-location") and "@" in v:
            v = redact_url(v)
        out.append((k, v))
    return out


def redact_url(url: str) -> str:
    """``url`` without the password of its userinfo (``http://user:[redacted]@host/``)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = len(rest)
    for stop in "/?#":
        i = rest.find(stop)
        if i != -1 and i < end:
            end = i
    authority = rest[:end]
    at = authority.rfind("@")
    if at == -1:
        return url
    user, colon, _password = authority[:at].partition(":")
    if not colon:
        return url  # a user name alone is no secret
    return f"{scheme}://{user}:{REDACTED}@{authority[at + 1 :]}{rest[end:]}"


def parse_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    """The request line and the (redacted) header fields of a serialised request head."""
    lines = head.decode("latin-1").split("\r\n")
    fields = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            fields.append((name, value.strip()))
    return lines[0], redact_headers(fields)


# -- the logging face: DEBUG lines built on the hook -----------------------------------------------

log = logging.getLogger("netwire.http")


def _log_event(event: TraceEvent) -> None:
    """Write the events a reader of DEBUG logs wants as one line each (never credentials)."""
    info = event.info
    name = event.name
    if name == "request.head":
        log.debug("request: %s", info["request_line"])
    elif name == "response.head":
        log.debug(
            "response: HTTP/%s %s %s (%.1f ms after the request)",
            info["http_version"], info["status"], info["reason"], event.elapsed * 1000,
        )
    elif name == "response.body":
        log.debug("response body: %d bytes in %.1f ms", info["bytes"], event.elapsed * 1000)
    elif name == "pool.acquire":
        how = "reused" if info["reused"] else "opened"
        log.debug("connection to %s %s (%.1f ms)", info["origin"], how, event.elapsed * 1000)
    elif name == "connect":
        via = f" via proxy {info['proxy']}" if info.get("proxy") else ""
        log.debug("connected to %s (%s)%s in %.1f ms", info["address"], info["family"], via, event.elapsed * 1000)
    elif name == "tls":
        log.debug("TLS %s %s alpn=%s with %s", info["version"], info["cipher"], info["alpn"], info["server_name"])
    elif name == "proxy.connect":
        log.debug("proxy tunnel: %s -> %s %s", info["request_line"], info["status"], info["reason"])
    elif name == "retry":
        log.debug("retry %d in %.1f s: %s", info["attempt"], info["delay"], info["reason"])
    elif name == "redirect":
        log.debug("redirect %s to %s", info["status"], info["location"])  # redacted by the flow


def _both(first: TraceHook, second: TraceHook) -> TraceHook:
    def trace(event: TraceEvent) -> None:
        first(event)
        second(event)

    return trace


def tracer_for(client_trace: TraceHook | None, extensions: Mapping[str, Any] | None) -> TraceHook | None:
    """The hook one request reports to: its own (``extensions["trace"]``), else the client's,
    plus the ``netwire.http`` logger when it logs DEBUG (asked once per request)."""
    trace = client_trace
    if extensions:
        own = extensions.get("trace")
        if own is not None:
            trace = own
    if log.isEnabledFor(logging.DEBUG):
        return _log_event if trace is None else _both(trace, _log_event)
    return trace


# -- the exchange's events, emitted the same way by both drivers -----------------------------------


def acquired(trace: TraceHook, origin: object, reused: bool, start: float) -> None:
    """``pool.acquire``: a connection for ``origin`` was taken (``reused``) after ``start``."""
    emit(trace, "pool.acquire", start, origin=str(origin), reused=reused, waited=time.monotonic() - start)


def request_sent(trace: TraceHook, method: str, head: bytes, content: object, start: float) -> None:
    """``request.head`` and ``request.body`` once both went out (``start``: when sending began)."""
    request_line, fields = parse_head(head)
    parts = request_line.split(" ")
    target = parts[1] if len(parts) == 3 else request_line
    emit(trace, "request.head", start, method=method, target=target, request_line=request_line, headers=fields)
    size: int | None
    if content is None:
        size = 0
    elif isinstance(content, str):
        size = len(content.encode("utf-8"))
    elif isinstance(content, bytes | bytearray | memoryview):
        size = len(content)
    else:
        size = None  # a stream or an iterable: its size is not known without counting it
    emit(trace, "request.body", start, bytes=size)


def h2_request_sent(
    trace: TraceHook, method: str, authority: str, path: str, fields: list[tuple[str, str]], content: object, start: float
) -> None:
    """:func:`request_sent` for a request on an HTTP/2 stream: the HEADERS frame's fields, with
    ``:authority`` first, and a request line written as the HTTP/1.1 one would be."""
    request_line = f"{method} {path} HTTP/2"
    headers = redact_headers([(":authority", authority), *fields])
    emit(trace, "request.head", start, method=method, target=path, request_line=request_line, headers=headers)
    size: int | None
    if content is None:
        size = 0
    elif isinstance(content, str):
        size = len(content.encode("utf-8"))
    elif isinstance(content, bytes | bytearray | memoryview):
        size = len(content)
    else:
        size = None
    emit(trace, "request.body", start, bytes=size)


def response_received(trace: TraceHook, head: ResponseHead, sent_at: float) -> None:
    """``response.head``: ``head`` (an http11 ``ResponseHead``) arrived, ``sent_at`` after sending."""
    emit(
        trace,
        "response.head",
        sent_at,
        status=head.status,
        reason=head.reason,
        http_version=head.http_version,
        headers=redact_headers(head.headers),
    )


def traced_release(
    trace: TraceHook, release: Callable[[Any, bool], None], parser: Any, origin: object
) -> Callable[[Any, bool], None]:
    """``release`` (the pool's) that first reports ``response.body`` and then ``pool.release``."""
    start = time.monotonic()

    def release_traced(conn: Any, reusable: bool) -> None:
        complete = parser.done
        emit(trace, "response.body", start, bytes=parser._received_body, complete=complete)
        release(conn, reusable)
        kept = reusable and not _closed(conn)
        if kept:
            why = "idle in the pool for the next request"
        elif reusable:
            why = "the pool is full or closed"
        elif not complete:
            why = "body not read to its end (or a read failed)"
        elif parser.trailing_data:
            why = "the server sent bytes after the response"
        else:
            why = "the response ends the connection (Connection: close, HTTP/1.0 or read to EOF)"
        emit(trace, "pool.release", time.monotonic(), origin=str(origin), kept=kept, why=why)

    return release_traced


def _closed(conn: object) -> bool:
    """Whether the pool closed ``conn`` (a sync Connection's socket, an async one's transport)."""
    alive = getattr(conn, "alive", None)
    if alive is not None:
        return not alive
    sock = getattr(conn, "sock", None)
    try:
        return sock is not None and sock.fileno() == -1
    except OSError:
        return True


# -- the connection's events -----------------------------------------------------------------------

def _family_name(family: int) -> str:
    import socket

    names: dict[int, str] = {socket.AF_INET: "IPv4", socket.AF_INET6: "IPv6"}
    if hasattr(socket, "AF_UNIX"):
        names[socket.AF_UNIX] = "unix"
    return names.get(family, str(family))


def _address(peer: Any) -> str:
    if isinstance(peer, tuple):
        host, port = peer[0], peer[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(peer)


def connected(trace: TraceHook, sock: Any, origin: Any, label: str | None, start: float) -> None:
    """``connect``: ``sock`` (a socket, or an asyncio transport) reached its peer after ``start``."""
    if hasattr(sock, "get_extra_info"):  # an asyncio transport
        peer = sock.get_extra_info("peername")
        raw = sock.get_extra_info("socket")
        family = _family_name(raw.family) if raw is not None else "?"
    else:
        try:
            peer = sock.getpeername()
        except OSError:
            peer = None
        family = _family_name(sock.family)
    proxy = label[len("proxy ") :] if label and label.startswith("proxy ") else None
    emit(
        trace, "connect", start, host=origin.host, port=origin.port, address=_address(peer), family=family,
        proxy=proxy, peer=peer,
    )


def tls_done(trace: TraceHook, sock: Any, server_name: str, start: float) -> None:
    """``tls``: the handshake on ``sock`` (an SSL socket or object, or a transport) completed."""
    ssl_object = sock.get_extra_info("ssl_object") if hasattr(sock, "get_extra_info") else sock
    cipher = ssl_object.cipher() if ssl_object is not None else None
    emit(
        trace,
        "tls",
        start,
        server_name=server_name,
        version=ssl_object.version() if ssl_object is not None else None,
        cipher=cipher[0] if cipher else None,
        alpn=ssl_object.selected_alpn_protocol() if ssl_object is not None else None,
        ssl_object=ssl_object,
    )


def tunnel_done(trace: TraceHook, target: str, status: int | None, reason: str, start: float) -> None:
    """``proxy.connect``: the proxy answered ``CONNECT target`` with ``status`` (None: no answer)."""
    emit(
        trace, "proxy.connect", start, request_line=f"CONNECT {target} HTTP/1.1", target=target, status=status,
        reason=reason,
    )
