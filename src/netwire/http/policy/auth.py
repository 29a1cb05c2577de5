"""Authentication as a generator flow, shared by the sync and async clients.

An :class:`Auth` turns one request into the requests to send: ``flow(request)`` yields a request,
receives its response through ``send()``, and may yield another (a digest answer to a 401).
The client drives it::

    flow = auth.flow(request)
    request = next(flow)
    while True:
        response = send(request)
        try:
            request = flow.send(response)
        except StopIteration:
            break

Re-sent requests carry the same body: the client rewinds it (or fails if it cannot) exactly as
for a 307 redirect. ``requires_response_body`` says the flow reads the 401's body, so the client
must read it before sending it in (otherwise it may just drain and release it).

``WWW-Authenticate`` is parsed by :func:`parse_www_authenticate`, a linear scanner: no
backtracking regex, so no header can make it slow (urllib's CVE-2020-8492, CVE-2021-3733).
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from ..models import Request, Response

__all__ = [
    "Auth",
    "BasicAuth",
    "Challenge",
    "DigestAuth",
    "FunctionAuth",
    "NetrcAuth",
    "auth_from",
    "basic_auth_header",
    "parse_www_authenticate",
]


class Auth:
    """Base class of authentication schemes. The default flow sends the request unchanged."""

    requires_request_body = False
    requires_response_body = False

    def flow(self, request: Request) -> Generator[Request, Response, None]:
        """Yield the request(s) to send; each ``yield`` evaluates to that request's response."""
        yield request


def _with_header(request: Request, name: str, value: str) -> Request:
    headers = request.headers.copy()
    headers[name] = value
    return Request(request.method, request.url, headers, request.content, dict(request.extensions))


def _to_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def basic_auth_header(username: str | bytes, password: str | bytes) -> str:
    """``Basic <base64(user:password)>``; text is sent as UTF-8 (RFC 7617 2.1)."""
    token = base64.b64encode(_to_bytes(username) + b":" + _to_bytes(password)).decode("ascii")
    return f"Basic {token}"


class BasicAuth(Auth):
    """HTTP Basic authentication (RFC 7617), sent with the first request."""

    def __init__(self, username: str | bytes, password: str | bytes) -> None:
        self.username = username
        self._header = basic_auth_header(username, password)

    def flow(self, request: Request) -> Generator[Request, Response, None]:
        yield _with_header(request, "Authorization", self._header)

    def __repr__(self) -> str:
        return f"BasicAuth({self.username!r}, ***)"


class FunctionAuth(Auth):
    """Authentication by a function that takes the request and returns the request to send."""

    def __init__(self, func: Callable[[Request], Request]) -> None:
        self.func = func

    def flow(self, request: Request) -> Generator[Request, Response, None]:
        yield self.func(request)


class NetrcAuth(Auth):
    """Basic credentials for hosts listed in a netrc file (``$NETRC``, else ``~/.netrc``).

    Opt-in: only used when passed as ``auth=``. A host not listed there (and no ``default``
    entry), or an unreadable file, means the request goes out without credentials. A request
    that already has an Authorization header keeps it.
    """

    def __init__(self, file: str | os.PathLike[str] | None = None) -> None:
        self.file = file
        self._netrc: Any = None
        self._loaded = False
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if not self._loaded:
                import netrc

                path = self.file if self.file is not None else os.environ.get("NETRC")
                if path is None:
                    path = os.path.join(os.path.expanduser("~"), ".netrc")
                try:
                    self._netrc = netrc.netrc(os.fspath(path))
                except (OSError, netrc.NetrcParseError):
                    self._netrc = None
                self._loaded = True
            return self._netrc

    def credentials(self, host: str) -> tuple[str, str] | None:
        """(login, password) for ``host`` from the file, or None."""
        rc = self._load()
        if rc is None:
            return None
        entry = rc.authenticators(host)
        if entry is None:
            return None
        login, _account, password = entry
        return login or "", password or ""

    def flow(self, request: Request) -> Generator[Request, Response, None]:
        creds = None if "authorization" in request.headers else self.credentials(request.url.host_for_socket)
        if creds is None:
            yield request
        else:
            yield _with_header(request, "Authorization", basic_auth_header(*creds))


def auth_from(value: Any) -> Auth | None:
    """Coerce what callers pass as ``auth=``: None, an Auth, ``(user, password)``, or a function."""
    if value is None or isinstance(value, Auth):
        return value
    if isinstance(value, tuple | list) and len(value) == 2:
        return BasicAuth(value[0], value[1])
    if callable(value):
        return FunctionAuth(value)
    raise TypeError(f"auth must be an Auth, a (user, password) pair or a function, not {type(value).__name__}")


# -- WWW-Authenticate -------------------------------------------------------------------------------


@dataclass
class Challenge:
    """One challenge of a ``WWW-Authenticate`` / ``Proxy-Authenticate`` field (RFC 9110 11.6.1).

    ``scheme`` as sent (compare it case-insensitively: ``challenge.is_scheme("digest")``),
    ``params`` with lower-cased names and unquoted values, ``token68`` for schemes such as
    Negotiate that send one opaque token instead of parameters.
    """

    scheme: str
    params: dict[str, str] = field(default_factory=dict)
    token68: str | None = None

    def is_scheme(self, name: str) -> bool:
        return self.scheme.lower() == name.lower()


_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_T68CHAR = frozenset("-._~+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _skip(s: str, i: int, chars: str) -> int:
    n = len(s)
    while i < n and s[i] in chars:
        i += 1
    return i


def _span(s: str, i: int, allowed: frozenset[str]) -> int:
    n = len(s)
    while i < n and s[i] in allowed:
        i += 1
    return i


def _quoted(s: str, i: int) -> tuple[str, int]:
    """The quoted-string starting at s[i] == '"': (its value unescaped, index past it).

    An unterminated string runs to the end of the field (lenient, and still one pass).
    """
    out: list[str] = []
    n = len(s)
    i += 1
    # Plain runs are skipped with find(). The next quote's position is looked up again only
    # once the scan has passed it (it was escaped), so no character is searched twice and
    # the scan stays linear however many escapes there are.
    q = s.find('"', i)
    while i < n:
        if 0 <= q < i:
            q = s.find('"', i)
        end = q if q >= 0 else n
        b = s.find("\\", i, end)
        if b >= 0:
            out.append(s[i:b])
            if b + 1 < n:
                out.append(s[b + 1])
            i = b + 2
            continue
        out.append(s[i:end])
        return "".join(out), (end + 1 if q >= 0 else n)
    return "".join(out), n


def parse_www_authenticate(header: str) -> list[Challenge]:
    """Parse a ``WWW-Authenticate`` value into its challenges, in order.

    Handles several challenges in one field (``Digest realm="a", nonce="b", Basic realm="c"``),
    token68 credentials, quoted strings with backslash escapes, and junk without raising: what
    cannot be understood is skipped. Every character is looked at a bounded number of times,
    so the time is linear in the length of the field whatever it holds.
    """
    challenges: list[Challenge] = []
    s = header
    n = len(s)
    i = 0
    while i < n:
        i = _skip(s, i, " \t,")
        if i >= n:
            break
        j = _span(s, i, _TCHAR)
        if j == i:
            i += 1  # a character that cannot start a scheme: skip it
            continue
        challenge = Challenge(s[i:j])
        challenges.append(challenge)
        k = _skip(s, j, " \t")
        if k >= n or s[k] == "," or k == j:
            i = k
            continue
        i = k
        # token68: its characters, then only "="s, then the end or a comma.
        t = _span(s, i, _T68CHAR)
        if t > i:
            e = _skip(s, t, "=")
            after = _skip(s, e, " \t")
            if after >= n or s[after] == ",":
                challenge.token68 = s[i:e]
                i = after
                continue
        # auth-params until a token that is not followed by "=" (the next challenge's scheme).
        params = challenge.params
        while i < n:
            name_end = _span(s, i, _TCHAR)
            if name_end == i:
                break
            k = _skip(s, name_end, " \t")
            if k >= n or s[k] != "=":
                break  # i stays on this token: the outer loop reads it as a scheme
            name = s[i:name_end].lower()
            k = _skip(s, k + 1, " \t")
            if k < n and s[k] == '"':
                value, k = _quoted(s, k)
            else:
                e = _span(s, k, _TCHAR)
                value, k = s[k:e], e
            params.setdefault(name, value)  # a repeated parameter is invalid; the first one counts
            k = _skip(s, k, " \t")
            if k < n and s[k] == ",":
                i = _skip(s, k, " \t,")
                continue
            i = k
            break
    return challenges


def _challenges(response: Response, field_name: str = "www-authenticate") -> list[Challenge]:
    found: list[Challenge] = []
    for value in response.headers.get_list(field_name):
        found.extend(parse_www_authenticate(value))
    return found


# -- Digest (RFC 7616) --------------------------------------------------------------------------------


def _h_md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _h_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _h_sha512_256(data: bytes) -> str:
    return hashlib.new("sha512_256", data).hexdigest()


def _sha512_256_available() -> bool:
    try:
        hashlib.new("sha512_256")
    except ValueError:
        return False
    return True


_HASHES: dict[str, Callable[[bytes], str]] = {"MD5": _h_md5, "SHA-256": _h_sha256}
if _sha512_256_available():
    _HASHES["SHA-512-256"] = _h_sha512_256
# When a server offers several Digest challenges, take the strongest we support (RFC 7616 3.7).
_STRENGTH = {"MD5": 0, "SHA-256": 1, "SHA-512-256": 2}


def _algorithm(challenge: Challenge) -> tuple[str, bool] | None:
    """(hash name, session variant) of a challenge's algorithm, or None if unsupported."""
    algo = challenge.params.get("algorithm", "MD5").upper()
    sess = algo.endswith("-SESS")
    base = algo[:-5] if sess else algo
    if base not in _HASHES:
        return None
    return base, sess


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DigestAuth(Auth):
    """HTTP Digest authentication (RFC 7616): MD5, SHA-256 (and SHA-512-256 where hashlib has it),
    their ``-sess`` variants, qop ``auth`` (and ``auth-int`` for in-memory bodies), ``userhash``.

    The first request goes out without credentials; the 401's challenge is answered, then
    remembered, so later requests through the same DigestAuth carry credentials straight away
    with the nonce count incremented. A ``stale=true`` challenge is answered once more with
    the fresh nonce.
    """

    requires_response_body = False

    def __init__(self, username: str | bytes, password: str | bytes) -> None:
        self.username = username.decode("utf-8") if isinstance(username, bytes) else username
        self._password = _to_bytes(password)
        self._lock = threading.Lock()
        self._challenge: Challenge | None = None
        self._nonce_count = 0

    def __repr__(self) -> str:
        return f"DigestAuth({self.username!r}, ***)"

    @staticmethod
    def _pick(response: Response) -> Challenge | None:
        best: Challenge | None = None
        best_strength = -1
        for challenge in _challenges(response):
            if not challenge.is_scheme("digest") or "nonce" not in challenge.params:
                continue
            algo = _algorithm(challenge)
            if algo is None:
                continue
            strength = _STRENGTH[algo[0]]
            if strength > best_strength:
                best, best_strength = challenge, strength
        return best

    def flow(self, request: Request) -> Generator[Request, Response, None]:
        with self._lock:
            known = self._challenge
        sent_preemptively = False
        if known is not None:
            authorized = self._authorize(request, known)
            if authorized is not None:
                request_to_send, sent_preemptively = authorized, True
            else:
                request_to_send = request
        else:
            request_to_send = request
        response = yield request_to_send
        # At most two answers: one to the first challenge, one more if that nonce went stale.
        for answer in range(2):
            if response.status != 401:
                return
            challenge = self._pick(response)
            if challenge is None:
                return
            stale = challenge.params.get("stale", "").lower() == "true"
            # Credentials for a live nonce were refused: stop. Only a stale nonce, or a new one
            # after a preemptive answer (the server may have forgotten ours), earns another try.
            same_nonce = known is not None and challenge.params.get("nonce") == known.params.get("nonce")
            if (answer > 0 or (sent_preemptively and same_nonce)) and not stale:
                return
            authorized = self._authorize(request, challenge)
            if authorized is None:
                return
            known = challenge
            response = yield authorized

    def _authorize(self, request: Request, challenge: Challenge) -> Request | None:
        header = self.authorization(request, challenge)
        if header is None:
            return None
        return _with_header(request, "Authorization", header)

    def authorization(self, request: Request, challenge: Challenge, *, cnonce: str | None = None) -> str | None:
        """The ``Authorization`` value answering ``challenge`` for ``request``; None if it cannot.

        Each call uses the next nonce count for the challenge's nonce.
        """
        algo = _algorithm(challenge)
        if algo is None:
            return None
        hash_name, sess = algo
        h = _HASHES[hash_name]
        p = challenge.params
        realm = p.get("realm", "")
        nonce = p.get("nonce", "")
        uri = request.url.request_target

        qop: str | None = None
        offered = {q.strip().lower() for q in p["qop"].split(",")} if "qop" in p else None
        body: bytes | None = None
        if offered is not None:
            if "auth" in offered:
                qop = "auth"
            elif "auth-int" in offered:
                content = request.content
                if content is None:
                    body = b""
                elif isinstance(content, bytes | bytearray | memoryview):
                    body = bytes(content)
                elif isinstance(content, str):
                    body = content.encode("utf-8")
                else:
                    return None  # a streamed body cannot be hashed before it is sent
                qop = "auth-int"
            else:
                return None

        with self._lock:
            if self._challenge is None or self._challenge.params.get("nonce") != nonce:
                self._challenge = challenge
                self._nonce_count = 0
            self._nonce_count += 1
            nc = f"{self._nonce_count:08x}"
        if cnonce is None:
            cnonce = h(os.urandom(16) + str(time.time()).encode())[:32]

        user = self.username.encode("utf-8")
        ha1 = h(user + b":" + realm.encode("utf-8") + b":" + self._password)
        if sess:
            ha1 = h(f"{ha1}:{nonce}:{cnonce}".encode())
        a2 = f"{request.method}:{uri}"
        if qop == "auth-int":
            assert body is not None
            a2 += ":" + h(body)
        ha2 = h(a2.encode("utf-8"))
        if qop is None:
            digest = h(f"{ha1}:{nonce}:{ha2}".encode())
        else:
            digest = h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}".encode())

        parts: list[str] = []
        userhash = p.get("userhash", "").lower() == "true"
        if userhash:
            parts.append(f"username={_quote(h(user + b':' + realm.encode('utf-8')))}")
        elif self.username.isascii():
            parts.append(f"username={_quote(self.username)}")
        else:
            # RFC 7616 3.4.4: a name outside ASCII goes in username* (RFC 8187 encoding).
            parts.append("username*=UTF-8''" + _ext_value(user))
        parts += [
            f"realm={_quote(realm)}",
            f"nonce={_quote(nonce)}",
            f"uri={_quote(uri)}",
            f"algorithm={p.get('algorithm', 'MD5')}",
            f"response={_quote(digest)}",
        ]
        if "opaque" in p:
            parts.append(f"opaque={_quote(p['opaque'])}")
        if qop is not None:
            parts += [f"qop={qop}", f"nc={nc}", f"cnonce={_quote(cnonce)}"]
        if userhash:
            parts.append("userhash=true")
        return "Digest " + ", ".join(parts)


_ATTR_CHAR = frozenset(b"!#$&+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _ext_value(data: bytes) -> str:
    return "".join(chr(b) if b in _ATTR_CHAR else f"%{b:02X}" for b in data)
