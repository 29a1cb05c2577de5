"""robots.txt parsing and matching (RFC 9309), the engine behind :mod:`netwire.robotparser`.

Contract: :meth:`RobotsTxt.parse` takes the body (``bytes`` or ``str``), never raises, and costs
time linear in its size (only the first :data:`MAX_BYTES` are read, each line is cut at
:data:`MAX_LINE_BYTES`). :meth:`RobotsTxt.decide` never raises either; its cost is bounded by the
size of the rules times the length of the URL's path, because wildcard patterns are matched by
a greedy left-to-right search for their literal pieces (``str.find``), never by a backtracking
regular expression.

Tolerances follow Google's open-source parser, the reference the RFC's authors wrote: a UTF-8 BOM
(even a partial one) is skipped, CR, LF and CRLF all end lines, a missing colon is accepted when
the line is exactly two words, directive names match by prefix and common misspellings
(``useragent``, ``dissallow``, ...) are understood, ``Sitemap`` lines do not close a group.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

__all__ = [
    "MAX_BYTES",
    "MAX_LINE_BYTES",
    "Decision",
    "Directive",
    "RequestRate",
    "RobotsTxt",
    "escape_pattern",
    "is_valid_product_token",
    "normalize_path",
    "path_of",
    "product_token",
    "to_bytes",
]

#: RFC 9309 section 2.5: the parsing limit must be at least 500 KiB; we read exactly that much.
MAX_BYTES = 500 * 1024
#: Google's parser keeps this many bytes of a line (8 times the longest URL browsers accept,
#: less the terminating NUL of its C buffer); anything further on the line is dropped.
MAX_LINE_BYTES = 2083 * 8 - 1

Mode = Literal["rfc9309", "google"]


class RequestRate(NamedTuple):
    """``Request-rate: requests/seconds``, as ``urllib.robotparser.RequestRate``."""

    requests: int
    seconds: int


class Decision(NamedTuple):
    """The verdict for one URL: ``allowed``, and the rule that decided (``None`` when none did).

    ``rule`` is the directive as written (``"Disallow: /private"``), ``line`` its 1-based line
    number in the robots.txt, ``reason`` a short human explanation. Its truth value is
    ``allowed``.
    """

    allowed: bool
    rule: str | None = None
    line: int | None = None
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


class Directive(NamedTuple):
    """One parsed ``key: value`` line. ``kind`` is the canonical key, or ``"unknown"``."""

    line: int
    kind: str
    key: str
    value: str


# -- text helpers -------------------------------------------------------------------------------

_BOM = b"\xef\xbb\xbf"
_TOKEN_RE = re.compile(r"[A-Za-z_-]*")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_START_RE = re.compile(r"[/?;]")


def product_token(agent: str) -> str:
    """The leading run of ``[A-Za-z_-]`` of ``agent`` (``"FooBot/2.1"`` -> ``"FooBot"``)."""
    m = _TOKEN_RE.match(agent)
    return m.group() if m else ""


def is_valid_product_token(agent: str) -> bool:
    """True when ``agent`` is non-empty and made only of ``[A-Za-z_-]`` (RFC 9309 section 2.2.1)."""
    return bool(agent) and product_token(agent) == agent


def _caller_token(agent: str) -> str | None:
    """The lower-cased product token a caller's agent name matches groups by, or None.

    The name is cut at the first character outside ``[A-Za-z_-]``, so ``"FooBot/2.1 (+http://...)"``
    obeys ``FooBot``'s group. A name whose token is followed by whitespace (``"Foo Bar"``) is
    ambiguous, and is not a product token (Google's reference test); it obeys only ``*``.
    """
    token = product_token(agent)
    if not token:
        return None
    rest = agent[len(token) :]
    if rest and rest[0] in " \t\r\n\x0b\x0c":
        return None
    return token.lower()


def path_of(url: str) -> str:
    """Path, params and query of ``url``, without scheme, authority and fragment; always starts
    with ``/`` (``"/"`` when there is none). The same forgiving rules as Google's parser: a bare
    ``"example.com/a?b"`` gives ``"/a?b"``."""
    # The hot case, http(s) URLs, with plain finds; the general rules below give the same.
    if url.startswith("https://"):
        start = 8
    elif url.startswith("http://"):
        start = 7
    else:
        return _path_of_any(url)
    end = len(url)
    cut = url.find("/", start)
    if cut < 0:
        cut = end
    q = url.find("?", start, cut)
    if q >= 0:
        cut = q
    q = url.find(";", start, cut)
    if q >= 0:
        cut = q
    if cut == end:
        return "/"
    hash_pos = url.find("#", start)
    if hash_pos >= 0:
        if hash_pos < cut:
            return "/"
        path = url[cut:hash_pos]
    else:
        path = url[cut:]
    return path if path[0] == "/" else "/" + path


def _path_of_any(url: str) -> str:
    start = 2 if url.startswith("//") else 0
    m = _PATH_START_RE.search(url, start)
    early = m.start() if m else -1
    proto = url.find("://", start)
    if proto < 0 or (0 <= early < proto):
        proto_end = start
    else:
        proto_end = proto + 3
        m = _PATH_START_RE.search(url, proto_end)
    if m is None:
        return "/"
    path_start = m.start()
    hash_pos = url.find("#", start)
    if 0 <= hash_pos < path_start:
        return "/"
    path = url[path_start:hash_pos] if hash_pos >= 0 else url[path_start:]
    return path if path[0] == "/" else "/" + path


def to_bytes(text: str) -> bytes:
    """UTF-8, giving back the original bytes of text decoded with ``surrogateescape`` (as urllib
    decodes robots.txt) and encoding any other lone surrogate rather than failing."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def escape_pattern(value: bytes | str) -> str:
    """Google's pattern canonicalisation: ``%xx`` upper-cased, octets >= 0x80 percent-encoded."""
    raw = to_bytes(value) if isinstance(value, str) else value
    return _canon(raw, decode_unreserved=False, encode_specials=False)


def normalize_path(path: str) -> str:
    """RFC 9309 section 2.2.2 canonical form of a URL path for matching.

    Non-ASCII octets and the robots.txt specials ``*`` and ``$`` are percent-encoded, escapes
    are upper-cased, and escapes of unreserved ASCII (``%7E`` -> ``~``) are decoded.
    """
    if path.isascii() and "%" not in path and "*" not in path and "$" not in path:
        return path
    return _canon(to_bytes(path), decode_unreserved=True, encode_specials=True)


def _canon(raw: bytes, *, decode_unreserved: bool, encode_specials: bool) -> str:
    if raw.isascii() and b"%" not in raw and not (encode_specials and (b"*" in raw or b"$" in raw)):
        return raw.decode("ascii")
    out: list[str] = []
    i = 0
    n = len(raw)
    while i < n:
        c = raw[i]
        if c == 0x25 and i + 2 < n and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
            octet = int(raw[i + 1 : i + 3], 16)
            if decode_unreserved and octet in _UNRESERVED:
                out.append(chr(octet))
            else:
                out.append("%" + raw[i + 1 : i + 3].decode("ascii").upper())
            i += 3
            continue
        if c >= 0x80 or (encode_specials and c in (0x2A, 0x24)):
            out.append(f"%{c:02X}")
        else:
            out.append(chr(c))
        i += 1
    return "".join(out)


# -- lines and directives ---------------------------------------------------------------------

_KIND_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"user-agent", "user-agent"),
    (b"useragent", "user-agent"),
    (b"user agent", "user-agent"),
    (b"allow", "allow"),
    (b"disallow", "disallow"),
    (b"dissallow", "disallow"),
    (b"dissalow", "disallow"),
    (b"disalow", "disallow"),
    (b"diasllow", "disallow"),
    (b"disallaw", "disallow"),
    (b"sitemap", "sitemap"),
    (b"site-map", "sitemap"),
    (b"crawl-delay", "crawl-delay"),
    (b"crawldelay", "crawl-delay"),
    (b"request-rate", "request-rate"),
)


_KIND_EXACT = {prefix: kind for prefix, kind in _KIND_PREFIXES}


def _kind_of(key: bytes) -> str:
    low = key.lower()
    kind = _KIND_EXACT.get(low)
    if kind is not None:
        return kind
    for prefix, kind in _KIND_PREFIXES:
        if low.startswith(prefix):
            return kind
    return "unknown"


def _split_line(line: bytes) -> tuple[bytes, bytes] | None:
    hash_pos = line.find(b"#")
    if hash_pos >= 0:
        line = line[:hash_pos]
    line = line.strip()
    if not line:
        return None
    colon = line.find(b":")
    if colon < 0:
        # Google's tolerance for a forgotten colon: "disallow /x" is unambiguous, but only when
        # the line is exactly two words.
        words = line.split()
        if len(words) != 2:
            return None
        return words[0], words[1]
    key = line[:colon].strip()
    if not key:
        return None
    return key, line[colon + 1 :].strip()


def _lines(data: bytes) -> list[bytes]:
    """Split on CR, LF or CRLF (``bytes.splitlines`` knows exactly those), after a (partial) BOM.

    The line after the last line end counts too, empty or not, as in Google's parser.
    """
    skip = 0
    while skip < 3 and skip < len(data) and data[skip] == _BOM[skip]:
        skip += 1
    if skip:
        data = data[skip:]
    lines = data.splitlines()
    if not data or data[-1] in b"\r\n":
        lines.append(b"")
    return lines


def _bridge(line: bytes) -> bytes:
    """A line that is not UTF-8 is read as Latin-1 (RFC 9309 section 2.2.2 lets crawlers bridge
    such mismatches), so that ``/caf\xe9`` still matches the URL ``/café`` (``/caf%C3%A9``).
    Per line, so that one stray byte does not change how the rest of the file reads."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1").encode("utf-8")
    return line


# -- patterns -----------------------------------------------------------------------------------

_PLAIN, _EXACT, _GLOB = 0, 1, 2
_MAX_NEEDLES = 64


class _Rule:
    """A compiled allow/disallow pattern.

    ``priority`` is the length of the canonical pattern (RFC 9309: the most octets win).
    Plain patterns (no ``*``, no final ``$``) are prefixes; ``$``-anchored ones without ``*`` are
    exact paths; the rest are split on ``*`` into literal pieces matched greedily, which is both
    correct for ``*``-only globs and linear per piece.
    """

    __slots__ = ("allow", "anchored", "decision", "first", "kind", "last", "line", "lit", "mids", "priority", "text")

    def __init__(self, allow: bool, pattern: str, line: int, text: str) -> None:
        self.allow = allow
        self.line = line
        self.text = text
        # Decisions are immutable: one per rule, shared by every lookup it decides.
        self.decision = Decision(allow, text, line, "matched rule")
        self.priority = len(pattern)
        self.anchored = pattern.endswith("$")
        body = pattern[:-1] if self.anchored else pattern
        self.lit = body
        self.first = ""
        self.mids: tuple[str, ...] = ()
        self.last = ""
        if "*" not in body:
            self.kind = _EXACT if self.anchored else _PLAIN
            return
        self.kind = _GLOB
        pieces = body.split("*")
        self.first = pieces[0]
        rest = [p for p in pieces[1:] if p]
        if self.anchored and pieces[-1]:
            self.last = rest.pop()
        self.mids = tuple(rest)
        self.lit = self.first

    def matches(self, path: str) -> bool:
        kind = self.kind
        if kind == _PLAIN:
            return path.startswith(self.lit)
        if kind == _EXACT:
            return path == self.lit
        if not path.startswith(self.first):
            return False
        pos = len(self.first)
        for piece in self.mids:
            pos = path.find(piece, pos)
            if pos < 0:
                return False
            pos += len(piece)
        if self.anchored:
            last = self.last
            return len(path) - len(last) >= pos and path.endswith(last)
        return True


class _RuleIndex:
    """The rules that apply to one agent, arranged so that a lookup rarely touches most of them.

    * Plain prefixes live in one dict per distinct length; walking the lengths from the longest
      down, the first hit is the longest plain match. A single ``str.startswith(tuple)`` first
      rules them all out for most paths.
    * Exact (``$``, no ``*``) paths are one dict lookup.
    * Wildcard rules whose literal head is longer than ``/`` are found like plain prefixes, by
      their head; only those are tried.
    * The remaining "floating" wildcard rules (``/*.pdf$``, ``/*?sort=``) are tried one by one,
      longest first and only while they could still beat the best match so far, after one
      regular-expression search (literal alternatives only: no backtracking) for their longest
      literal pieces has shown that at least one of them can match.
    """

    __slots__ = ("exact", "floating", "head_any", "head_lengths", "heads", "needles", "plain", "plain_any",
                 "plain_lengths")

    def __init__(self, rules: Iterable[_Rule]) -> None:
        plain: dict[int, dict[str, _Rule]] = {}
        exact: dict[str, _Rule] = {}
        heads: dict[int, dict[str, list[_Rule]]] = {}
        floating: list[_Rule] = []  # sorted below, best first
        for rule in rules:
            if rule.priority == 0:
                continue  # an empty pattern matches nothing in particular (RFC 9309, Google)
            if rule.kind == _PLAIN:
                _keep_better(plain.setdefault(len(rule.lit), {}), rule.lit, rule)
            elif rule.kind == _EXACT:
                _keep_better(exact, rule.lit, rule)
            elif len(rule.first) > 1:
                heads.setdefault(len(rule.first), {}).setdefault(rule.first, []).append(rule)
            else:
                floating.append(rule)
        order = _rank
        for bucket in heads.values():
            for group in bucket.values():
                group.sort(key=order, reverse=True)
        floating.sort(key=order, reverse=True)
        self.plain = plain
        self.plain_lengths = tuple(sorted(plain, reverse=True))
        self.plain_any: tuple[str, ...] = tuple(k for b in plain.values() for k in b)
        self.exact = exact
        self.heads = heads
        self.head_lengths = tuple(sorted(heads, reverse=True))
        self.head_any: tuple[str, ...] = tuple(k for b in heads.values() for k in b)
        # Floating rules grouped by their longest literal piece (the "needle"): a rule can only
        # match a path that contains its needle. Groups are ranked by their best rule.
        by_needle: dict[str, list[_Rule]] = {}
        for rule in floating:
            by_needle.setdefault(max((*rule.mids, rule.last), key=len), []).append(rule)
        groups = [(needle, rules[0].priority, rules[0].allow, tuple(rules)) for needle, rules in by_needle.items()]
        groups.sort(key=lambda g: (g[1], g[2]), reverse=True)
        self.floating = tuple(groups)
        self.needles: re.Pattern[str] | None = None
        if groups and "" not in by_needle and len(by_needle) <= _MAX_NEEDLES:
            # One search rules out every floating rule for most paths. Literal alternatives only,
            # so the engine never backtracks; but it tries each at every position, so a file
            # with thousands of them goes through the plain loop instead.
            self.needles = re.compile("|".join(map(re.escape, sorted(by_needle, key=len, reverse=True))))

    def best(self, path: str) -> _Rule | None:
        best: _Rule | None = None
        n = len(path)
        if self.plain_any and path.startswith(self.plain_any):
            plain = self.plain
            for length in self.plain_lengths:
                if length <= n:
                    best = plain[length].get(path[:length])
                    if best is not None:
                        break
        if self.exact:
            hit = self.exact.get(path)
            if hit is not None and _better(hit, best):
                best = hit
        if self.head_any and path.startswith(self.head_any):
            heads = self.heads
            for length in self.head_lengths:
                if length <= n:
                    group = heads[length].get(path[:length])
                    if group is not None:
                        best = _first_better(group, path, best)
        floating = self.floating
        if floating:
            needles = self.needles
            if needles is None or needles.search(path) is not None:
                for needle, priority, allow, rules in floating:
                    if best is not None and (priority < best.priority or (priority == best.priority and
                                                                           (not allow or best.allow))):
                        break
                    if needle in path:
                        best = _first_better(rules, path, best)
        return best


def _rank(rule: _Rule) -> tuple[int, bool]:
    return (rule.priority, rule.allow)


def _first_better(rules: Iterable[_Rule], path: str, best: _Rule | None) -> _Rule | None:
    """The first rule of ``rules`` (ranked best first) that matches and beats ``best``."""
    for rule in rules:
        if best is not None and (rule.priority < best.priority or (rule.priority == best.priority and
                                                                    (not rule.allow or best.allow))):
            return best
        if rule.matches(path):
            return rule
    return best


def _better(a: _Rule, b: _Rule | None) -> bool:
    return b is None or a.priority > b.priority or (a.priority == b.priority and a.allow and not b.allow)


def _keep_better(table: dict[str, _Rule], key: str, rule: _Rule) -> None:
    old = table.get(key)
    if old is None or _better(rule, old):
        table[key] = rule


# -- the parsed file ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Group:
    line: int
    agents: list[str] = field(default_factory=list)  # as written
    tokens: set[str] = field(default_factory=set)  # lower-cased product tokens
    is_global: bool = False
    rules: list[_Rule] = field(default_factory=list)
    crawl_delay: int | float | None = None  # int | float: see _parse_delay
    request_rate: RequestRate | None = None


class _View:
    __slots__ = ("crawl_delay", "global_", "request_rate", "specific")

    def __init__(self, specific: _RuleIndex | None, global_: _RuleIndex | None,
                 crawl_delay: int | float | None, request_rate: RequestRate | None) -> None:
        self.specific = specific
        self.global_ = global_
        self.crawl_delay = crawl_delay
        self.request_rate = request_rate


_ALLOW_ALL = Decision(True, None, None, "no rule matched")
_NO_MATCH = Decision(True, None, None, "no rule of the agent's group matched")
_ROBOTS_TXT = Decision(True, None, None, "/robots.txt is always allowed")


class RobotsTxt:
    """A parsed robots.txt: ``RobotsTxt.parse(body).decide(agent, url)``.

    ``mode="rfc9309"`` (the default) canonicalises percent-encoding on both sides as RFC 9309
    section 2.2.2 asks (a raw ``ツ`` in the URL matches ``%E3%83%84`` in a rule, ``%7E`` matches
    ``~``). ``mode="google"`` takes URLs as already percent-encoded and leaves escapes of
    unreserved characters alone, as Google's reference parser does.

    Instances are immutable once parsed and safe to share between threads.
    """

    def __init__(self, *, mode: Mode = "rfc9309") -> None:
        self.mode: Mode = mode
        self.groups: list[_Group] = []
        self.sitemaps: list[str] = []
        self.directives: list[Directive] = []
        self.truncated = False
        self._views: dict[str, _View] = {}  # by the caller's agent string, as given
        self._by_token: dict[str | None, _View] = {}
        self._lock = threading.Lock()

    # parsing

    @classmethod
    def parse(cls, body: bytes | str, *, mode: Mode = "rfc9309") -> RobotsTxt:
        """Parse a robots.txt body. Only the first :data:`MAX_BYTES` are read; never raises.

        In ``rfc9309`` mode a line that is not valid UTF-8 is read as Latin-1.
        """
        self = cls(mode=mode)
        data = to_bytes(body) if isinstance(body, str) else bytes(body)
        if len(data) > MAX_BYTES:
            data = data[:MAX_BYTES]
            self.truncated = True
            # The last, cut line would be a shorter (so broader) rule than the author wrote.
            cut = max(data.rfind(b"\n"), data.rfind(b"\r"))
            data = data[: cut + 1] if cut >= 0 else b""
        self._read(data)
        return self

    def _read(self, data: bytes) -> None:
        rfc = self.mode == "rfc9309"
        group: _Group | None = None
        closed = True  # a user-agent line after a rule starts a new group
        for number, line in enumerate(_lines(data), 1):
            if not line:
                continue
            if rfc and not line.isascii():
                line = _bridge(line)
            if len(line) > MAX_LINE_BYTES:
                line = line[:MAX_LINE_BYTES]
            kv = _split_line(line)
            if kv is None:
                continue
            key, raw = kv
            kind = _kind_of(key)
            value = raw.decode("utf-8", "replace")
            self.directives.append(Directive(number, kind, key.decode("utf-8", "replace"), value))
            if kind == "user-agent":
                if group is None or closed:
                    group = _Group(number)
                    self.groups.append(group)
                    closed = False
                group.agents.append(value)
                # "*" alone, or followed by whitespace and anything, is the global agent (Google).
                if value[:1] == "*" and (len(value) == 1 or value[1].isspace()):
                    group.is_global = True
                else:
                    token = product_token(value)
                    if token:
                        group.tokens.add(token.lower())
            elif kind in ("allow", "disallow"):
                if group is None:
                    continue  # rules before any user-agent line belong to nobody
                closed = True
                allow = kind == "allow"
                text = f"{'Allow' if allow else 'Disallow'}: {value}"
                pattern = self._pattern(raw, rfc)
                group.rules.append(_Rule(allow, pattern, number, text))
                if allow:
                    # Google: an allowed ".../index.htm[l]" also allows its directory, exactly.
                    slash = raw.rfind(b"/")
                    if slash >= 0 and raw[slash:].startswith(b"/index.htm"):
                        group.rules.append(_Rule(True, self._pattern(raw[: slash + 1], rfc) + "$", number, text))
            elif kind == "sitemap":
                if value:
                    self.sitemaps.append(value)
            elif group is None:
                continue
            elif kind == "crawl-delay" and group.crawl_delay is None:
                group.crawl_delay = _parse_delay(value)
            elif kind == "request-rate" and group.request_rate is None:
                group.request_rate = _parse_rate(value)

    @staticmethod
    def _pattern(raw: bytes, rfc: bool) -> str:
        if raw.isascii() and b"%" not in raw and b"$" not in raw:
            return raw.decode("ascii")  # most patterns: nothing to canonicalise in either mode
        if not rfc:
            return _canon(raw, decode_unreserved=False, encode_specials=False)
        # '$' is special only as the last character; elsewhere it is a literal, which a URL
        # carries as %24 after canonicalisation.
        anchored = raw.endswith(b"$")
        body = raw[:-1] if anchored else raw
        text = _canon(body, decode_unreserved=True, encode_specials=False).replace("$", "%24")
        return text + "$" if anchored else text

    # matching

    def _view(self, agent: str) -> _View:
        view = self._views.get(agent)
        if view is not None:
            return view
        token = _caller_token(agent)
        view = self._by_token.get(token)
        if view is not None:
            with self._lock:
                self._remember(agent, view)
            return view
        specific_groups = [g for g in self.groups if token is not None and token in g.tokens]
        global_groups = [g for g in self.groups if g.is_global and not (token is not None and token in g.tokens)]
        chosen = specific_groups or global_groups
        view = _View(
            _RuleIndex(r for g in specific_groups for r in g.rules) if specific_groups else None,
            _RuleIndex(r for g in global_groups for r in g.rules) if global_groups else None,
            next((g.crawl_delay for g in chosen if g.crawl_delay is not None), None),
            next((g.request_rate for g in chosen if g.request_rate is not None), None),
        )
        with self._lock:
            self._by_token[token] = view
            self._remember(agent, view)
        return view

    def _remember(self, agent: str, view: _View) -> None:
        if len(self._views) > 1024:  # bounded: agent names come from callers
            self._views.clear()
        self._views[agent] = view

    def decide(self, agent: str, url: str) -> Decision:
        """Whether ``agent`` may fetch ``url`` (absolute URL, or a path), and which rule decided."""
        path = path_of(url)
        if self.mode == "rfc9309":
            path = normalize_path(path)
        if path == "/robots.txt":
            return _ROBOTS_TXT
        view = self._views.get(agent) or self._view(agent)
        if view.specific is not None:
            rule = view.specific.best(path)
            return _NO_MATCH if rule is None else rule.decision
        if view.global_ is not None:
            rule = view.global_.best(path)
            if rule is not None:
                return rule.decision
        return _ALLOW_ALL

    def allowed(self, agent: str, url: str) -> bool:
        """``decide(agent, url).allowed``."""
        return self.decide(agent, url).allowed

    def crawl_delay(self, agent: str) -> int | float | None:
        """``Crawl-delay`` of the group that applies to ``agent`` (seconds), or None."""
        return self._view(agent).crawl_delay

    def request_rate(self, agent: str) -> RequestRate | None:
        """``Request-rate`` of the group that applies to ``agent``, or None."""
        return self._view(agent).request_rate

    def __str__(self) -> str:
        blocks = []
        for g in self.groups:
            lines = [f"User-agent: {a}" for a in g.agents]
            if g.crawl_delay is not None:
                lines.append(f"Crawl-delay: {g.crawl_delay:g}")
            if g.request_rate is not None:
                lines.append(f"Request-rate: {g.request_rate.requests}/{g.request_rate.seconds}")
            seen = set()
            for r in g.rules:
                if r.line not in seen:  # an index.html rule has a twin on the same line
                    seen.add(r.line)
                    lines.append(r.text)
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)


def _parse_delay(value: str) -> int | float | None:
    # int | float, not float: the compiled build (mypyc) turns an int returned through a float
    # annotation into a float, and a whole delay must stay an int ("crawl-delay: 2 s", not 2.0).
    try:
        delay = float(value)
    except ValueError:
        return None
    if delay != delay or delay < 0 or delay == float("inf"):
        return None
    return int(delay) if delay.is_integer() else delay


def _parse_rate(value: str) -> RequestRate | None:
    requests, sep, seconds = value.partition("/")
    if not sep:
        return None
    try:
        return RequestRate(int(requests.strip()), int(seconds.strip().rstrip("sS")))
    except ValueError:
        return None
