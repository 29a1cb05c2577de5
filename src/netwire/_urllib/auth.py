"""Authentication for the urllib face: password managers, Basic and Digest handlers (origin and proxy).

The handlers keep urllib's protocol (``http_error_401``/``407``, ``http_error_auth_reqed``,
``retry_http_basic_auth``...), so subclasses keep working; the Digest computation itself is
:class:`netwire.policy.auth.DigestAuth`'s and the challenge parsing is
:func:`netwire.policy.auth.parse_www_authenticate`'s, as for the Client.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ..error import HTTPError
from ..http.models import Headers
from ..http.policy.auth import Challenge, DigestAuth, parse_www_authenticate
from ..parse import urlparse, urlsplit
from .base import (
    BaseHandler,
    Request,
    _discard,
    _splitport,
)


class HTTPPasswordMgr:
    """Credentials by (realm, URI prefix)."""

    def __init__(self) -> None:
        self.passwd: dict[Any, dict[tuple[tuple[str, str], ...], tuple[str, str]]] = {}

    def add_password(self, realm: str | None, uri: str | Iterable[str], user: str, passwd: str) -> None:
        uris = [uri] if isinstance(uri, str) else list(uri)
        domains = self.passwd.setdefault(realm, {})
        for default_port in (True, False):
            reduced = tuple(self.reduce_uri(u, default_port) for u in uris)
            domains[reduced] = (user, passwd)

    def find_user_password(self, realm: str | None, authuri: str) -> tuple[str | None, str | None]:
        domains = self.passwd.get(realm, {})
        for default_port in (True, False):
            reduced_authuri = self.reduce_uri(authuri, default_port)
            for uris, authinfo in domains.items():
                for uri in uris:
                    if self.is_suburi(uri, reduced_authuri):
                        return authinfo
        return None, None

    def reduce_uri(self, uri: str, default_port: bool = True) -> tuple[str, str]:
        """(authority, path) of a URI or a bare authority; the default port added when asked."""
        parts = urlsplit(uri)
        scheme: str | None
        if parts[1]:
            scheme, authority, path = parts[0], parts[1], parts[2] or "/"
        else:
            scheme, authority, path = None, uri, "/"
        host, port = _splitport(authority)
        if default_port and port is None and scheme is not None:
            dport = {"http": 80, "https": 443}.get(scheme)
            if dport is not None:
                authority = f"{host}:{dport}"
        return authority, path

    def is_suburi(self, base: tuple[str, str], test: tuple[str, str]) -> bool:
        """True if ``test`` is ``base`` or below it (both reduced)."""
        if base == test:
            return True
        if base[0] != test[0]:
            return False
        prefix = base[1]
        if prefix[-1:] != "/":
            prefix += "/"
        return test[1].startswith(prefix)


class HTTPPasswordMgrWithDefaultRealm(HTTPPasswordMgr):
    """Falls back to the credentials added for realm None."""

    def find_user_password(self, realm: str | None, authuri: str) -> tuple[str | None, str | None]:
        user, password = super().find_user_password(realm, authuri)
        if user is not None:
            return user, password
        return super().find_user_password(None, authuri)


class HTTPPasswordMgrWithPriorAuth(HTTPPasswordMgrWithDefaultRealm):
    """Remembers which URIs accepted credentials, so they are sent before any 401."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.authenticated: dict[tuple[str, str], bool] = {}
        super().__init__(*args, **kwargs)

    def add_password(
        self, realm: str | None, uri: str | Iterable[str], user: str, passwd: str, is_authenticated: bool = False
    ) -> None:
        uris = [uri] if isinstance(uri, str) else list(uri)
        self.update_authenticated(uris, is_authenticated)
        if realm is not None:
            super().add_password(None, uris, user, passwd)
        super().add_password(realm, uris, user, passwd)

    def update_authenticated(self, uri: str | Iterable[str], is_authenticated: bool = False) -> None:
        uris = [uri] if isinstance(uri, str) else list(uri)
        for default_port in (True, False):
            for u in uris:
                self.authenticated[self.reduce_uri(u, default_port)] = is_authenticated

    def is_authenticated(self, authuri: str) -> bool | None:
        for default_port in (True, False):
            reduced = self.reduce_uri(authuri, default_port)
            for uri in self.authenticated:
                if self.is_suburi(uri, reduced):
                    return self.authenticated[uri]
        return None


# A quoted-string's quoted-pair (RFC 9110 5.6.4): the backslash goes, the character stays.
_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.DOTALL)


class AbstractBasicAuthHandler:
    """Answers Basic challenges with the password manager's credentials."""

    auth_header = "Authorization"
    parent: Any

    def __init__(self, password_mgr: Any = None) -> None:
        if password_mgr is None:
            password_mgr = HTTPPasswordMgr()
        self.passwd = password_mgr
        self.add_password = self.passwd.add_password

    # The challenges of a header as urllib reads them: groups (scheme, quote, realm). Besides the
    # RFC's quoted-string (escapes allowed), a realm in single quotes or unquoted is accepted,
    # as urllib does: servers send both in the wild. An unquoted realm ends at a space or comma
    # (urllib's runs on to the next quote; see docs/urllib-migration.md).
    rx = re.compile(
        r"(?:^|,)[ \t]*([^ \t,]+)[ \t]+realm="
        r"""(["']?)((?<=")(?:[^"\\]|\\.)*|(?<=')[^']*|(?<!["'])[^ \t,"']*)\2""",
        re.IGNORECASE,
    )

    def _parse_realm(self, header: str) -> Iterator[tuple[str, str | None]]:
        """(scheme, realm) of each challenge in ``header`` that has a realm; else (scheme, None)."""
        found = False
        for match in self.rx.finditer(header):
            scheme, quote_char, realm = match.groups()
            if quote_char == '"':
                realm = _QUOTED_PAIR_RE.sub(r"\1", realm)
            elif not quote_char:
                warnings.warn("Basic Auth Realm was unquoted", UserWarning, 3)
            found = True
            yield scheme, realm
        if not found:
            yield (header.split()[0] if header.split() else ""), None

    def http_error_auth_reqed(self, authreq: str, host: Any, req: Request, headers: Any) -> Any:
        values = headers.get_all(authreq)
        if not values:
            return None
        unsupported = None
        for value in values:
            for scheme, realm in self._parse_realm(value):
                if scheme.lower() != "basic":
                    unsupported = scheme
                    continue
                if realm is not None:
                    # The first Basic challenge with a realm is answered, as in urllib.
                    return self.retry_http_basic_auth(host, req, realm)
            # urllib needs realm= right after the scheme; RFC 9110 allows any parameter order
            # (Basic charset="UTF-8", realm="x"): read those with the full parser.
            for challenge in parse_www_authenticate(value):
                realm = challenge.params.get("realm")
                if challenge.is_scheme("basic") and realm is not None:
                    return self.retry_http_basic_auth(host, req, realm)
        if unsupported is not None:
            raise ValueError(f"AbstractBasicAuthHandler does not support the following scheme: {unsupported!r}")
        return None

    def retry_http_basic_auth(self, host: Any, req: Request, realm: str) -> Any:
        user, pw = self.passwd.find_user_password(realm, host)
        if pw is None:
            return None
        auth = "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode("ascii")
        if req.get_header(self.auth_header, None) == auth:
            return None  # these credentials were refused already
        req.add_unredirected_header(self.auth_header, auth)
        _discard_challenge()
        return self.parent.open(req, timeout=req.timeout)

    def http_request(self, req: Request) -> Request:
        is_authenticated = getattr(self.passwd, "is_authenticated", None)
        if is_authenticated is None or not is_authenticated(req.full_url):
            return req
        if not req.has_header("Authorization"):
            user, passwd = self.passwd.find_user_password(None, req.full_url)
            credentials = base64.standard_b64encode(f"{user}:{passwd}".encode()).decode()
            req.add_unredirected_header("Authorization", f"Basic {credentials.strip()}")
        return req

    def http_response(self, req: Request, response: Any) -> Any:
        if hasattr(self.passwd, "is_authenticated"):
            self.passwd.update_authenticated(req.full_url, 200 <= response.code < 300)
        return response

    https_request = http_request
    https_response = http_response


class HTTPBasicAuthHandler(AbstractBasicAuthHandler, BaseHandler):
    """Answers 401 Basic challenges from origin servers."""

    auth_header = "Authorization"

    def http_error_401(self, req: Request, fp: Any, code: int, msg: str, headers: Any) -> Any:
        url = req.full_url
        return _retrying(fp, lambda: self.http_error_auth_reqed("www-authenticate", url, req, headers))


class ProxyBasicAuthHandler(AbstractBasicAuthHandler, BaseHandler):
    """Answers 407 Basic challenges from proxies."""

    auth_header = "Proxy-authorization"

    def http_error_407(self, req: Request, fp: Any, code: int, msg: str, headers: Any) -> Any:
        authority = req.host
        return _retrying(fp, lambda: self.http_error_auth_reqed("proxy-authenticate", authority, req, headers))


_pending_discard = threading.local()


def _retrying(fp: Any, retry: Callable[[], Any]) -> Any:
    # A handler that answers a challenge sends the request again while the challenge's
    # response is unread: drain it first so its connection is reused, not left checked out.
    _pending_discard.fp = fp
    try:
        return retry()
    finally:
        _pending_discard.fp = None


def _discard_challenge() -> None:
    fp = getattr(_pending_discard, "fp", None)
    if fp is not None:
        _pending_discard.fp = None
        _discard(fp)


class AbstractDigestAuthHandler:
    """Answers Digest challenges (RFC 7616: MD5, SHA-256, their -sess variants, qop auth/auth-int)
    with the password manager's credentials; the digest itself is :class:`netwire.policy.auth.DigestAuth`'s."""

    auth_header = "Authorization"
    parent: Any

    def __init__(self, passwd: Any = None) -> None:
        if passwd is None:
            passwd = HTTPPasswordMgr()
        self.passwd = passwd
        self.add_password = self.passwd.add_password
        self.retried = 0
        self.nonce_count = 0
        self.last_nonce: str | None = None
        self._digests: dict[tuple[str, str], DigestAuth] = {}

    def reset_retry_count(self) -> None:
        self.retried = 0

    def http_error_auth_reqed(self, auth_header: str, host: Any, req: Request, headers: Any) -> Any:
        authreq = headers.get(auth_header, None)
        if self.retried > 5:
            # Don't fail endlessly: the server keeps refusing what we send.
            raise HTTPError(req.full_url, 401, "digest auth failed", headers, None)
        self.retried += 1
        if authreq:
            values = headers.get_all(auth_header) or [authreq]
            challenges = [c for v in values for c in parse_www_authenticate(v)]
            if any(c.is_scheme("digest") for c in challenges):
                return self.retry_http_digest_auth(req, authreq)
            if not any(c.is_scheme("basic") for c in challenges):
                scheme = authreq.split()[0] if authreq.split() else authreq
                raise ValueError(f"AbstractDigestAuthHandler does not support the following scheme: '{scheme}'")
        return None

    def _challenge(self, req: Request, auth: str) -> dict[str, str] | None:
        for challenge in parse_www_authenticate(auth):
            if challenge.is_scheme("digest"):
                return challenge.params
        return None

    def retry_http_digest_auth(self, req: Request, auth: str) -> Any:
        chal = self._challenge(req, auth)
        if chal is None:
            return None
        value = self.get_authorization(req, chal)
        if not value:
            return None
        auth_val = f"Digest {value}"
        if req.headers.get(self.auth_header, None) == auth_val:
            return None
        req.add_unredirected_header(self.auth_header, auth_val)
        _discard_challenge()
        return self.parent.open(req, timeout=req.timeout)

    def get_authorization(self, req: Request, chal: Mapping[str, str]) -> str | None:
        """The Digest credentials (without the scheme) answering ``chal`` for ``req``, or None."""
        if "realm" not in chal or "nonce" not in chal:
            return None
        realm = chal["realm"]
        # Raises ValueError for an algorithm we do not answer, as urllib does.
        self.get_algorithm_impls(chal.get("algorithm", "MD5"))
        user, pw = self.passwd.find_user_password(realm, req.full_url)
        if user is None or pw is None:
            return None
        digest = self._digests.get((user, pw))
        if digest is None:
            digest = self._digests[(user, pw)] = DigestAuth(user, pw)
        data = req.data
        body = data if isinstance(data, bytes | bytearray) else None
        target = req.selector.partition("#")[0] or "/"
        header = digest.authorization(
            _SelectorRequest(req.get_method(), body, target),  # type: ignore[arg-type]
            Challenge("Digest", dict(chal)),
            cnonce=self.get_cnonce(chal["nonce"]),
        )
        if header is None:
            return None
        self.last_nonce = chal["nonce"]
        return header.partition(" ")[2]


    def get_cnonce(self, nonce: str) -> str:
        """A fresh client nonce (16 hex digits) for a response to ``nonce``."""
        # Unpredictable (os.urandom), and different per request even with a fixed clock.
        seed = f"{self.nonce_count}:{nonce}:{time.time()}:".encode() + os.urandom(16)
        return hashlib.sha256(seed).hexdigest()[:16]

    def get_algorithm_impls(self, algorithm: str) -> tuple[Callable[[str], str], Callable[[str, str], str]]:
        """``(H, KD)`` of a digest ``algorithm`` as urllib defines them: ``H(text)`` the hex
        digest of ``text``, ``KD(secret, data)`` that of ``"secret:data"``.

        MD5, SHA-256 and SHA-512-256 (and their ``-sess`` names) are answered; any other name
        raises ``ValueError("Unsupported digest authentication algorithm ...")`` as in urllib
        (which also knows the non-standard SHA-1 ``SHA``; netwire does not answer it).
        """
        name = algorithm.upper()
        name = name.removesuffix("-SESS")
        hash_name = _DIGEST_HASHLIB_NAMES.get(name)
        if hash_name is None or hash_name not in hashlib.algorithms_available:
            raise ValueError(f"Unsupported digest authentication algorithm {algorithm!r}")

        def H(x: str) -> str:  # urllib's (and RFC 7616's) name
            return hashlib.new(hash_name, x.encode("utf-8")).hexdigest()

        def KD(s: str, d: str) -> str:
            return H(f"{s}:{d}")

        return H, KD

    def get_entity_digest(self, data: Any, chal: Mapping[str, str]) -> str | None:
        """None, as in urllib: qop ``auth-int`` (the body's hash) is computed by netwire's
        digest itself when a server asks for it."""
        return None


# RFC 7616 algorithm names -> hashlib names.
_DIGEST_HASHLIB_NAMES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}


class _SelectorRequest:
    """What DigestAuth reads of a request, with urllib's selector as the digest ``uri``."""

    def __init__(self, method: str, content: bytes | bytearray | None, target: str) -> None:
        self.method = method
        self.content = content
        self.headers = Headers()
        self.extensions: dict[str, Any] = {}
        self.url = _TargetURL(target)


class _TargetURL:
    def __init__(self, target: str) -> None:
        self.request_target = target


class HTTPDigestAuthHandler(BaseHandler, AbstractDigestAuthHandler):
    """Answers 401 Digest challenges from origin servers (tried before Basic)."""

    auth_header = "Authorization"
    handler_order = 490

    def http_error_401(self, req: Request, fp: Any, code: int, msg: str, headers: Any) -> Any:
        host = urlparse(req.full_url)[1]
        retry = _retrying(fp, lambda: self.http_error_auth_reqed("www-authenticate", host, req, headers))
        self.reset_retry_count()
        return retry


class ProxyDigestAuthHandler(BaseHandler, AbstractDigestAuthHandler):
    """Answers 407 Digest challenges from proxies."""

    auth_header = "Proxy-Authorization"
    handler_order = 490

    def http_error_407(self, req: Request, fp: Any, code: int, msg: str, headers: Any) -> Any:
        host = req.host
        retry = _retrying(fp, lambda: self.http_error_auth_reqed("proxy-authenticate", host, req, headers))
        self.reset_retry_count()
        return retry


def parse_keqv_list(l: Iterable[str]) -> dict[str, str]:  # noqa: E741 - urllib's parameter name
    """``['a="b"', 'c=d']`` -> ``{'a': 'b', 'c': 'd'}``."""
    parsed: dict[str, str] = {}
    for elt in l:
        k, v = elt.split("=", 1)
        if v[:1] == '"' and v[-1:] == '"':
            v = v[1:-1]
        parsed[k] = v
    return parsed


def parse_http_list(s: str) -> list[str]:
    """Split a comma-separated header list, keeping quoted strings (with their escapes) whole."""
    parts: list[str] = []
    part: list[str] = []
    escape = quoted = False
    for ch in s:
        if escape:
            part.append(ch)
            escape = False
            continue
        if quoted:
            if ch == "\\":
                escape = True
                continue
            if ch == '"':
                quoted = False
            part.append(ch)
            continue
        if ch == ",":
            parts.append("".join(part))
            part = []
            continue
        if ch == '"':
            quoted = True
        part.append(ch)
    if part:
        parts.append("".join(part))
    return [p.strip() for p in parts]
