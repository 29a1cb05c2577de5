"""Redirects (RFC 9110 15.4): which request follows a 301/302/303/307/308 response."""

from __future__ import annotations

from ...errors import BodyNotReplayable, InvalidURL, UnsafeRedirect
from ...url import URL
from ..models import Request, Response

__all__ = ["REDIRECT_STATUSES", "check_redirect", "next_request", "redirect_target", "rewind_body", "same_origin"]

REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))

# Fields that describe the body: dropped with it when a redirect turns the request into a GET.
_BODY_FIELDS = ("content-length", "content-type", "transfer-encoding", "content-encoding", "expect")
# Credentials a caller gave for one origin must not follow a redirect to another (gh-77842).
_CREDENTIAL_FIELDS = ("authorization", "cookie", "proxy-authorization")


def same_origin(a: URL, b: URL) -> bool:
    return a.origin_tuple == b.origin_tuple


def check_redirect(source: URL, target: URL, *, allow_downgrade: bool = False, request: Request | None = None) -> None:
    """Raise :class:`UnsafeRedirect` unless a redirect from ``source`` to ``target`` may be followed.

    The rule, for every redirect netwire follows (both clients, the CLI, robots.txt fetches):

    * only ``http``, ``https`` and ``http+unix`` targets;
    * the transport never changes: ``http+unix`` is reached only from ``http+unix`` on the same
      socket path, and a Unix-socket origin redirects only within its socket. Otherwise any
      web page could send a request (and a replayed POST body) into a local socket such as
      Docker's, which no origin on the network has a right to reach;
    * the only scheme change allowed is http -> https; https -> http only with
      ``allow_downgrade``.
    """
    src, dst = source.scheme, target.scheme
    if dst not in ("http", "https", "http+unix"):
        raise UnsafeRedirect(f"refusing to follow a redirect to {dst}: URL {target}", request=request)
    if src == "http+unix" or dst == "http+unix":
        if src != dst or source.hostname != target.hostname:
            raise UnsafeRedirect(
                f"refusing to follow a redirect that changes transport ({source.origin} -> {target}): "
                "a Unix socket is reached only by a redirect from the same socket",
                request=request,
            )
        return
    if src == dst or (src == "http" and dst == "https"):
        return
    if src == "https" and dst == "http":
        if allow_downgrade:
            return
        raise UnsafeRedirect(
            f"refusing to follow a redirect from https to http ({target}); pass allow_downgrade=True to allow it",
            request=request,
        )
    raise UnsafeRedirect(f"refusing to follow a redirect from {src} to {dst} ({target})", request=request)


def redirect_target(
    source: URL, location: str, *, allow_downgrade: bool = False, request: Request | None = None
) -> URL:
    """The URL a ``Location`` value names, resolved against ``source``, if it may be followed.

    Raises :class:`UnsafeRedirect` for an invalid URL or a target :func:`check_redirect` refuses.
    """
    try:
        url = URL(location.strip(), base=source)
    except InvalidURL as exc:
        raise UnsafeRedirect(f"redirect to an invalid URL {location!r}: {exc}", request=request) from exc
    check_redirect(source, url, allow_downgrade=allow_downgrade, request=request)
    return url


def next_request(request: Request, response: Response, *, allow_downgrade: bool = False) -> Request:
    """The request to send after redirect ``response`` to ``request``.

    Raises UnsafeRedirect (no or bad Location, a target :func:`check_redirect` refuses: another
    scheme or transport, an https -> http downgrade unless ``allow_downgrade``) and BodyNotReplayable (307/308 with a one-shot body).
    """
    location = response.headers.get("location")
    if not location:
        raise UnsafeRedirect(f"{response.status} redirect from {request.url} has no Location header", request=request)
    url = redirect_target(request.url, location, allow_downgrade=allow_downgrade, request=request)
    if not url.hash and request.url.hash:
        # RFC 9110 10.2.2: a Location without a fragment inherits the original one.
        url = url.replace(hash=request.url.hash)

    method = request.method
    status = response.status
    content = request.content
    headers = request.headers.copy()
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method = "GET"
        content = None
        for name in _BODY_FIELDS:
            if name in headers:
                del headers[name]
    elif content is not None and not _rewind(request):
        raise BodyNotReplayable(
            f"{status} redirect needs the request body sent again, but it was a one-shot stream; "
            "pass bytes or a seekable file to allow it",
            request=request,
        )
    if not same_origin(request.url, url):
        for name in _CREDENTIAL_FIELDS:
            if name in headers:
                del headers[name]
        if "host" in headers:
            del headers["host"]
    extensions = dict(request.extensions)
    return Request(method, url, headers, content, extensions)


def _rewind(request: Request) -> bool:
    """Put a replayable body back at its start; False if it cannot be sent again."""
    content = request.content
    if isinstance(content, bytes | bytearray | memoryview | str):
        return True
    rewind = getattr(content, "rewind", None)
    if rewind is not None:
        return bool(rewind())
    start = request.extensions.get("body_start")
    if start is not None and hasattr(content, "seek"):
        content.seek(start)
        return True
    return False


def rewind_body(request: Request) -> bool:
    """Public for retries: the same rule as for redirects."""
    return request.content is None or _rewind(request)

