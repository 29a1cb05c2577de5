"""``netwire get|head|post|put|patch|delete URL`` and ``netwire request METHOD URL``: curl-like HTTP.

The options are curl's (``-H``, ``-d``, ``-F``, ``-u``, ``-L``, ``-o``/``-O``, ``-C -``, ``-i``,
``-I``, ``-v``, ``-k``, ``-x``, ``--fail``...) plus httpie's request items (``key=value``,
``key:=json``, ``key==query``, ``Header:value``, ``field@file``). Output fits where it goes: on a
terminal the head is coloured, JSON is pretty-printed and binary bodies are not dumped; piped, the
bytes pass through untouched. Exit codes are listed in :mod:`netwire.cli.output` and docs/cli.md.
"""

from __future__ import annotations

import argparse
import codecs
import json as _json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO, TextIO

from ..bodies import JoinedBody, ProgressReader, urlencode_piece
from ..color import Painter, TerminalText, is_tty, use_color, visible
from ..output import (
    EXIT_CODES,
    EXIT_HTTP_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_RANGE,
    EXIT_READ_FILE,
    EXIT_USAGE,
    EXIT_WRITE,
    print_error,
)
from ..parsing import CommandParser
from ..progress import TransferProgress, format_size
from ..writeout import Transfer, write_out

__all__ = ["VERBS", "register", "run"]

#: subcommand -> HTTP method
VERBS = {"get": "GET", "head": "HEAD", "post": "POST", "put": "PUT", "patch": "PATCH", "delete": "DELETE"}

# The body is copied in blocks this big: large enough that per-block Python work is noise next to
# the kernel copy, small enough to stay in cache.
_BLOCK = 1024 * 1024
# On a terminal, JSON bodies up to this size are parsed and pretty-printed; bigger ones stream as is.
_PRETTY_LIMIT = 16 * 1024 * 1024
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "application/x-www-form")


class UsageError(Exception):
    """A bad option or argument (exit 2)."""


class BodyFileError(Exception):
    """A file named for the request body could not be read (exit 26)."""


class _IntermixedParser(CommandParser):
    """Allows request items after options (``netwire post URL -H 'A: b' name=x``).

    Plain argparse takes all positionals from the first run of them only; the intermixed parse
    collects them from anywhere on the line, as curl and httpie users expect. Unknown options are
    reported under this command's usage line (:class:`CommandParser`).
    """

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        if self._inner:
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            namespace, extras = self.parse_known_intermixed_args(_old_form_switch(args), namespace)
        finally:
            self._inner = False
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


def _old_form_switch(args: Any) -> Any:
    """``--form`` used the old way, as a switch (``netwire post --form URL a=1``), becomes
    ``--form-items``: curl's ``--form NAME=VALUE`` (what ``--form`` means now) is told apart by
    its value, which is ``name=...`` with a name that is no URL (no ``/`` or ``:`` in it)."""
    if args is None:
        return None
    out = list(args)
    for i, arg in enumerate(out):
        if arg == "--":
            break
        if arg != "--form":
            continue
        value = out[i + 1] if i + 1 < len(out) else None
        name, sep, _ = (value or "").partition("=")
        if value is None or value.startswith("-") or not sep or not name or "/" in name or ":" in name:
            out[i] = "--form-items"
    return out


_EXAMPLES = """\
examples:
  netwire get https://example.org/                       body to stdout (JSON pretty on a terminal)
  netwire get -i http://127.0.0.1:8000/get               status line and headers, then the body
  netwire head http://127.0.0.1:8000/                    the same as: netwire get -I URL
  netwire get -L -o page.html http://host/redirect       follow redirects, save to a file
  netwire get -O -C - http://host/big.iso                save as big.iso, resume a partial download
  netwire post http://host/post name=netwire n:=3        JSON body {"name": "netwire", "n": 3}
  netwire post http://host/post -d 'a=1&b=2'             form body, as curl -d
  netwire post http://host/post -d @file.json -H 'Content-Type: application/json'
  netwire post http://host/post -F photo=@cat.jpg -F caption=hello     multipart upload
  netwire get -u alice:secret --digest http://host/digest-auth/auth/alice/secret
  netwire get -v https://host/                           trace: connect, TLS, heads, timings
  netwire get -sSfL -o out.html http://host/page         curl's -sSfL: quiet, errors shown, fail on >= 400, follow
  netwire get -s -o /dev/null -w '%{http_code} %{time_total}\\n' http://host/    curl's report line
  netwire get -T backup.tar http://host/dav/             PUT the file (streamed, progress bar)
  netwire get -OJ http://host/download?id=3              save under the Content-Disposition name
  netwire get -G -d q=term --data-urlencode 'who=a b' http://host/search
  netwire request OPTIONS http://host/ -i
"""


def _exit_codes_text() -> str:
    return "exit codes:\n" + "".join(f"  {code:>3}  {meaning}\n" for code, meaning in EXIT_CODES.items())


def register(sub: Any) -> None:
    """Add the HTTP subcommands (get, head, post, put, patch, delete, request)."""
    # The options are built once, in a parent parser the subcommands copy: argparse's
    # add_argument is slow enough (it builds a help formatter each time) to show in start-up time.
    common = argparse.ArgumentParser(add_help=False)
    _add_options(common)
    old = sub._parser_class
    sub._parser_class = _IntermixedParser
    try:
        epilog = _EXAMPLES + "\n" + _exit_codes_text()
        for verb, method in [*VERBS.items(), ("request", None)]:
            if method is None:
                help_text = "send a request with any METHOD, curl-like"
                description = "Send a request with any method (OPTIONS, PROPFIND, ...); the options are get's."
            else:
                help_text = f"send a {method} request, curl-like (-H, -d, -F, -o, -L, -v, ...)"
                description = f"Send a {method} request and write the response body to stdout (or a file)."
            p = sub.add_parser(
                verb,
                help=help_text,
                description=description,
                epilog=epilog,
                formatter_class=argparse.RawDescriptionHelpFormatter,
                parents=[common],
            )
            if method is None:
                p.add_argument("method", type=str.upper, help="the HTTP method")
            p.add_argument("url", help="the URL (http:// or https://; http:// is assumed when no scheme is given)")
            p.add_argument(
                "items",
                nargs="*",
                metavar="ITEM",
                help="httpie-style request items: key=value (JSON string field, or form field with --form-items or -F), "
                "key:=json (raw JSON field), key==value (query parameter), Header:value (header), "
                "field@path (file upload, multipart)",
            )
            p.set_defaults(func=run, **({"method": method} if method else {}))
    finally:
        sub._parser_class = old


def _data_part(kind: str) -> Any:
    """An argparse ``type`` tagging each body piece with the option that gave it: ``-d``,
    ``--data-raw`` and ``--data-urlencode`` pieces are joined with ``&`` in command-line order."""

    def tag(value: str) -> tuple[str, str]:
        return (kind, value)

    return tag


def _add_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("request")
    g.add_argument("-X", "--request", dest="request_method", type=str.upper, metavar="METHOD",
                   help="the method to send instead of the command's (netwire get -X PURGE URL)")
    g.add_argument("-H", "--header", action="append", default=[], metavar="'Name: value'",
                   help="add a header (repeatable); 'Name:' with no value removes a default header")
    g.add_argument("-d", "--data", "--data-binary", dest="data_parts", action="append", default=[],
                   type=_data_part("data"), metavar="DATA",
                   help="request body: a string, @FILE (streamed from disk, sent as is) or @- for stdin "
                   "(repeated: joined with &); Content-Type application/x-www-form-urlencoded unless -H sets one")
    g.add_argument("--data-raw", dest="data_parts", action="append", type=_data_part("raw"), metavar="DATA",
                   help="like -d, without @ meaning a file")
    g.add_argument("--data-urlencode", dest="data_parts", action="append", type=_data_part("urlencode"),
                   metavar="DATA", help="like -d, percent-encoded as curl does: content, =content, "
                   "name=content, @file, name@file")
    g.add_argument("-G", "--get", dest="data_in_query", action="store_true",
                   help="put the -d data in the URL's query and send GET (HEAD with -I)")
    g.add_argument("--json", metavar="DATA",
                   help="JSON body: a string, @FILE or @-; sets Content-Type and Accept to application/json")
    g.add_argument("-F", "--form", "--form-field", dest="form_fields", action="append", default=[],
                   metavar="NAME=VALUE",
                   help="multipart field, as curl -F: name=value, name=@file[;type=mime][;filename=name] "
                   "(streamed from disk), name=<file (the file's text as a field)")
    g.add_argument("--form-items", dest="form", action="store_true",
                   help="send key=value items as an urlencoded form, not as JSON (httpie's --form; "
                   "'--form URL' used as a switch, the old way, still means this)")
    g.add_argument("-T", "--upload-file", metavar="FILE",
                   help="PUT the file (streamed from disk, with a progress bar on a terminal); '-': stdin. "
                   "A URL ending in / gets the file's name appended")
    g.add_argument("-u", "--user", metavar="USER[:PASSWORD]", help="credentials (Basic; prompts for a missing password)")
    g.add_argument("--digest", action="store_true", help="use Digest authentication with -u")
    g.add_argument("-A", "--user-agent", metavar="NAME", help="the User-Agent to send (and to match robots.txt for)")
    g.add_argument("-b", "--cookie", action="append", default=[], metavar="'NAME=VALUE; ...'",
                   help="send these cookies, and keep the ones responses set while redirects are followed "
                   "(without -b, cookies are not handled at all, as in curl)")
    g.add_argument("-C", "--continue-at", dest="resume", metavar="OFFSET",
                   help="resume a download at OFFSET bytes; '-' resumes where the -o file ends")
    g.add_argument("--compressed", action=argparse.BooleanOptionalAction, default=True,
                   help="ask for and decode gzip/deflate/br/zstd bodies (default on: curl's --compressed is "
                   "accepted and changes nothing)")
    g.add_argument("--respect-robots", action="store_true",
                   help="refuse URLs the site's robots.txt disallows for this User-Agent (exit 9)")
    g.add_argument("--cache", metavar="DIR",
                   help="HTTP caching (RFC 9111) in DIR/netwire-cache.sqlite, kept between runs")
    c = p.add_argument_group("connection")
    c.add_argument("-L", "--location", action="store_true", help="follow redirects")
    c.add_argument("--max-redirs", type=int, default=20, metavar="N", help="most redirects to follow (default 20)")
    c.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="longest wait for any read or write (default 30)")
    c.add_argument("--connect-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="longest TCP + TLS handshake (default 10)")
    c.add_argument("-m", "--max-time", type=float, metavar="SECONDS", help="limit on the whole transfer")
    c.add_argument("--retry", type=int, default=0, metavar="N",
                   help="retry failed connects and 429/502/503/504 answers up to N times, with backoff")
    c.add_argument("-x", "--proxy", metavar="URL", help="proxy: http://, socks5:// or socks5h:// URL")
    c.add_argument("--noproxy", metavar="HOSTS", help="comma list of hosts to reach without the proxy")
    v = c.add_mutually_exclusive_group()
    v.add_argument("--http1.1", dest="http_version", action="store_const", const="1.1",
                   help="speak HTTP/1.1 only (the default)")
    v.add_argument("--http2", dest="http_version", action="store_const", const="2",
                   help="offer HTTP/2 by ALPN on https (the server chooses); HTTP/1.1 on http://")
    v.add_argument("--http2-prior-knowledge", dest="http_version", action="store_const", const="2-prior",
                   help="speak HTTP/2 at once, also on http:// (h2c)")
    c.add_argument("-k", "--insecure", action="store_true", help="do NOT verify TLS certificates (unsafe; warns)")
    c.add_argument("--cacert", metavar="FILE", help="CA bundle to verify the server with")
    c.add_argument("-E", "--cert", metavar="FILE", help="client certificate (PEM; may hold the key)")
    c.add_argument("--key", metavar="FILE", help="client certificate's private key")
    o = p.add_argument_group("output")
    o.add_argument("-o", "--output", metavar="FILE", help="write the body to FILE ('-': stdout)")
    o.add_argument("-O", "--remote-name", action="store_true", help="write the body to a file named as in the URL")
    o.add_argument("-J", "--remote-header-name", action="store_true",
                   help="with -O: name the file as the Content-Disposition header says (base name only, "
                   "control characters and leading dots removed); an existing file is not overwritten")
    o.add_argument("--clobber", action="store_true", help="with -J: overwrite an existing file")
    o.add_argument("-D", "--dump-header", metavar="FILE", help="write the response head(s) to FILE ('-': stdout)")
    o.add_argument("-i", "--include", action="store_true", help="print the status line and headers, then the body")
    o.add_argument("-I", "--head", action="store_true", help="send HEAD and print the status line and headers")
    o.add_argument("-v", "--verbose", action="store_true",
                   help="trace to stderr: DNS, connect, TLS (version, peer certificate), request and "
                   "response heads, connection reuse, timings")
    o.add_argument("-w", "--write-out", metavar="FORMAT",
                   help="after the transfer, print FORMAT with curl's variables filled in: %%{http_code}, "
                   "%%{time_total}, %%{size_download}, %%{url_effective}, %%{header{name}}, %%{json}... "
                   "(@FILE: the format from a file); see docs/cli.md")
    o.add_argument("-f", "--fail", action="store_true", help="exit 22 and write no body when the status is >= 400")
    o.add_argument("--fail-with-body", action="store_true",
                   help="exit 22 when the status is >= 400, after writing the body")
    o.add_argument("-s", "--silent", action="store_true", help="no progress bar and no notes (errors still shown)")
    o.add_argument("-S", "--show-error", action="store_true",
                   help="accepted for curl's -sS: netwire always shows errors, also with -s")
    o.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the output: auto (on a terminal, unless NO_COLOR is set), always, never")
    o.add_argument("--pretty", choices=("auto", "always", "never"), default="auto",
                   help="pretty-print JSON bodies: auto (on a terminal), always, never")


# -- building the request ------------------------------------------------------------------------


@dataclass
class Spec:
    """What to send, from the command line."""

    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    params: list[tuple[str, str]] = field(default_factory=list)
    content: Any = None  # bytes, or a reader streamed from disk (bodies.JoinedBody, a file)
    data: list[tuple[str, str]] | None = None
    json: Any = None
    has_json: bool = False
    files: list[tuple[str, Any]] | None = None
    opened: list[IO[bytes]] = field(default_factory=list)
    upload: ProgressReader | None = None  # -T FILE: counts what was sent, drives the upload bar

    def header_names(self) -> set[str]:
        return {name.lower() for name, _ in self.headers}


def _read_arg_file(value: str, *, allow_at: bool = True) -> bytes:
    """``@FILE`` -> the file's bytes, ``@-`` -> stdin's, anything else -> its UTF-8."""
    if allow_at and value.startswith("@"):
        path = value[1:]
        try:
            if path == "-":
                return sys.stdin.buffer.read()
            with open(path, "rb") as f:
                return f.read()
        except OSError as exc:
            raise BodyFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    return value.encode("utf-8")


def _split_item(item: str) -> tuple[str, str, str] | None:
    """httpie's item grammar: the leftmost separator wins, the longest one at that position."""
    best: tuple[int, str] | None = None
    for sep in ("==", ":=", "=", ":", "@"):
        i = item.find(sep)
        if i > 0 and (best is None or i < best[0] or (i == best[0] and len(sep) > len(best[1]))):
            best = (i, sep)
    if best is None:
        return None
    i, sep = best
    return item[:i], sep, item[i + len(sep) :]


def _default_url(url: str) -> str:
    if "://" not in url:
        # curl's habit: a bare host means http (localhost:8000/path works).
        return "http://" + url
    return url


def _open_body_file(path: str, spec: Spec) -> BinaryIO:
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed after the request, with the others in spec.opened
    except OSError as exc:
        raise BodyFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    spec.opened.append(f)
    return f


def _data_pieces(args: argparse.Namespace, spec: Spec, *, stream: bool) -> list[bytes | BinaryIO]:
    """The ``-d``/``--data-raw``/``--data-urlencode`` pieces in command-line order. With
    ``stream``, ``@FILE`` pieces stay open files (sent from disk); ``@-`` is read whole, as curl
    does (standard input has no length to announce, and it may be read only once)."""
    pieces: list[bytes | BinaryIO] = []
    for kind, value in args.data_parts:
        if kind == "urlencode":
            pieces.append(urlencode_piece(value, lambda path: _read_arg_file("@" + path)))
        elif kind == "data" and value.startswith("@") and value != "@-" and stream:
            f = _open_body_file(value[1:], spec)
            import stat

            # A pipe or device (-d @/dev/stdin) has no size to announce: read whole, as @-.
            pieces.append(f if stat.S_ISREG(os.fstat(f.fileno()).st_mode) else f.read())
        else:
            pieces.append(_read_arg_file(value, allow_at=kind == "data"))
    return pieces


def _with_query(url: str, query: bytes) -> str:
    """``-G``: the data appended to the URL's query (before any fragment)."""
    if not query:
        return url
    base, hash_, fragment = url.partition("#")
    if "?" not in base:
        joiner = "?"
    elif base.endswith(("?", "&")):
        joiner = ""
    else:
        joiner = "&"
    return base + joiner + query.decode("utf-8", "replace") + hash_ + fragment


def build_spec(args: argparse.Namespace) -> Spec:
    """Turn the parsed options into a :class:`Spec` (raises UsageError or BodyFileError)."""
    if args.method == "HEAD" or args.request_method == "HEAD":
        args.head = True  # a HEAD answer has nothing to show but its head
    method = args.method
    if args.upload_file is not None:
        method = "PUT"  # curl -T
    if args.data_in_query:
        method = "GET"
    if args.request_method:
        method = args.request_method
    if args.head:
        method = "HEAD"
    url = _default_url(args.url)
    spec = Spec(method, url)
    try:
        return _fill_spec(args, spec)
    except BaseException:
        for f in spec.opened:
            f.close()
        raise


def _fill_spec(args: argparse.Namespace, spec: Spec) -> Spec:
    for h in args.header:
        name, sep, value = h.partition(":")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"bad header {h!r}: expected 'Name: value'")
        if not value.strip():
            spec.removed.append(name)
        else:
            spec.headers.append((name, value.strip()))
    fields: list[tuple[str, Any]] = []
    files: list[tuple[str, Any]] = []
    for item in args.items:
        parts = _split_item(item)
        if parts is None:
            raise UsageError(f"bad request item {item!r}: expected key=value, key:=json, key==value, Name:value or field@file")
        key, sep, value = parts
        if sep == "==":
            spec.params.append((key, value))
        elif sep == ":":
            spec.headers.append((key, value.strip()))
        elif sep == ":=":
            try:
                fields.append((key, _json.loads(value)))
            except ValueError as exc:
                raise UsageError(f"bad JSON in item {item!r}: {exc}") from None
        elif sep == "=":
            fields.append((key, value))
        else:
            files.append((key, _open_upload(value, spec)))
    if args.data_in_query and not args.data_parts:
        raise UsageError("-G puts the -d data in the query: give -d, --data-raw or --data-urlencode")
    data_in_body = bool(args.data_parts) and not args.data_in_query
    kinds = [name for name, given in (
        ("-d", data_in_body), ("--json", args.json is not None), ("-T", args.upload_file is not None),
        # Request items given with -F become more fields of the same multipart form (so an old
        # 'netwire post --form URL a=1' style line keeps its fields).
        ("-F", bool(args.form_fields)), ("items", bool((fields or files) and not args.form_fields)),
    ) if given]
    if len(kinds) > 1:
        raise UsageError(f"only one kind of request body at a time (got {' and '.join(kinds)})")
    names = spec.header_names()
    if args.data_in_query:
        spec.url = _with_query(spec.url, b"&".join(p for p in _data_pieces(args, spec, stream=False)
                                                   if isinstance(p, bytes)))
    if data_in_body:
        pieces = _data_pieces(args, spec, stream=True)
        if len(pieces) == 1:
            spec.content = pieces[0]
        elif all(isinstance(p, bytes) for p in pieces):
            spec.content = b"&".join(p for p in pieces if isinstance(p, bytes))
        else:
            joined: list[bytes | BinaryIO] = []
            for piece in pieces:
                if joined:
                    joined.append(b"&")
                joined.append(piece)
            spec.content = JoinedBody(joined)
        if "content-type" not in names:
            spec.headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    elif args.json is not None:
        spec.content = _read_arg_file(args.json)
        if "content-type" not in names:
            spec.headers.append(("Content-Type", "application/json"))
        if "accept" not in names:
            spec.headers.append(("Accept", "application/json"))
    elif args.upload_file is not None:
        if args.upload_file == "-":
            spec.content = sys.stdin.buffer  # streamed as it comes, chunked (no length to announce)
        else:
            spec.upload = ProgressReader(_open_body_file(args.upload_file, spec), None)
            spec.content = spec.upload
            if spec.url.split("#")[0].split("?")[0].endswith("/"):
                # curl -T: a URL naming a folder gets the file's name
                from ...parse import quote

                spec.url = _append_path(spec.url, quote(os.path.basename(args.upload_file)))
    elif args.form_fields:
        data: list[tuple[str, str]] = [(k, v if isinstance(v, str) else _json.dumps(v)) for k, v in fields]
        for f in args.form_fields:
            name, sep, value = f.partition("=")
            if not sep or not name:
                raise UsageError(f"bad -F {f!r}: expected name=value or name=@file")
            if value.startswith("@"):
                files.append((name, _open_upload(value[1:], spec)))
            elif value.startswith("<"):
                data.append((name, _read_arg_file("@" + value[1:]).decode("utf-8", "replace")))
            elif ";type=" in value:
                # curl: 'name=text;type=mime' is a text part with that Content-Type (no filename)
                text, _, ctype = value.partition(";type=")
                files.append((name, (None, text.encode("utf-8"), ctype.strip())))
            else:
                data.append((name, value))
        spec.data, spec.files = data, files
    elif files:
        spec.data = [(k, v if isinstance(v, str) else _json.dumps(v)) for k, v in fields]
        spec.files = files
    elif fields:
        if args.form:
            spec.data = [(k, v if isinstance(v, str) else _json.dumps(v)) for k, v in fields]
        else:
            spec.json, spec.has_json = dict(fields), True
            if "accept" not in names:
                spec.headers.append(("Accept", "application/json, */*;q=0.5"))
    return spec


def _append_path(url: str, name: str) -> str:
    base, q, rest = url.partition("?")
    if not q:
        base, q, rest = url.partition("#")
    return base + name + q + rest


def _open_upload(value: str, spec: Spec) -> tuple[str, Any, str | None]:
    """``path[;type=mime][;filename=name]`` -> a multipart file tuple (the file stays open until sent)."""
    path, *params = value.split(";")
    content_type: str | None = None
    filename = os.path.basename(path)
    for param in params:
        k, _, v = param.partition("=")
        if k.strip() == "type":
            content_type = v.strip()
        elif k.strip() == "filename":
            filename = v.strip()
    return (filename, _open_body_file(path, spec), content_type)


# -- the client ----------------------------------------------------------------------------------


def _credentials(user: str) -> tuple[str, str]:
    name, sep, password = user.partition(":")
    if not sep:
        if not is_tty(sys.stdin):
            raise UsageError("-u USER without a password needs a terminal to ask for it (use -u USER:PASSWORD)")
        import getpass

        password = getpass.getpass(f"password for {name}: ")
    return name, password


def make_client(args: argparse.Namespace, trace: Trace | None) -> Any:
    """A Client configured from the options, reporting to ``trace`` (``-v``, ``-w``, retry notes)."""
    from ...http.models import Timeout

    auth: Any = None
    if args.user is not None:
        name, password = _credentials(args.user)
        if args.digest:
            from ...http.policy.auth import DigestAuth

            auth = DigestAuth(name, password)
        else:
            auth = (name, password)
    for option, path in (("--cacert", args.cacert), ("-E/--cert", args.cert), ("--key", args.key)):
        # Loaded only when the TLS context is built, mid-request: a typo would surface as a
        # traceback there, so each file is checked up front.
        if path is not None and not os.access(path, os.R_OK):
            raise UsageError(f"{option}: cannot read {path}")
    verify: Any = True
    if args.insecure:
        verify = False
    elif args.cacert:
        verify = args.cacert
    cert: Any = None
    if args.cert:
        cert = (args.cert, args.key) if args.key else args.cert
    if args.cert or (args.cacert and not args.insecure):
        # A file that is no PEM fails deep inside the first request otherwise (ssl.SSLError).
        import ssl

        from ...http.connection import make_ssl_context

        try:
            make_ssl_context(verify, cert)
        except (ssl.SSLError, OSError, ValueError) as exc:
            which = f"-E/--cert {args.cert}" + (f" --key {args.key}" if args.key else "") if args.cert else \
                f"--cacert {args.cacert}"
            raise UsageError(f"{which}: cannot load the certificate or key: {exc}") from None
    cookies: Any = False  # a one-shot command needs no jar (and http.cookiejar costs ~40 ms to import)
    if args.cookie:
        cookies = {}
        for spec in args.cookie:
            for pair in spec.split(";"):
                name, sep, value = pair.strip().partition("=")
                if not sep or not name.strip():
                    raise UsageError(f"bad cookie {pair.strip()!r}: expected NAME=VALUE")
                cookies[name.strip()] = value.strip()
    options: dict[str, Any] = dict(
        timeout=Timeout(args.timeout, connect=args.connect_timeout, total=args.max_time),
        cookies=cookies,
        verify=verify,
        cert=cert,
        auth=auth,
        proxy=args.proxy,
        no_proxy=args.noproxy,
        retries=args.retry or None,
        follow_redirects=args.location,
        max_redirects=args.max_redirs,
        decompress=args.compressed,
        user_agent=args.user_agent,
        respect_robots=args.respect_robots,
    )
    if args.cache:
        options["cache"] = _cache_file(args.cache)
    version = getattr(args, "http_version", None)
    if version in ("2", "2-prior"):
        options["http2"] = True if version == "2" else "prior-knowledge"
    from ...http.client import Client

    if trace is not None:
        trace.insecure = verify is False
    return Client(trace=trace, **options)


def _cache_file(directory: str) -> str:
    """The sqlite file of ``--cache DIR`` (DIR is created if missing)."""
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--cache {directory!r}: cannot create the folder ({exc.strerror or exc})") from exc
    return os.path.join(directory, "netwire-cache.sqlite")


# -- -v: what happened on the wire ---------------------------------------------------------------


class Trace:
    """What ``-v`` shows, built on the client's public trace hook (:mod:`netwire.http.trace`):
    called with each :class:`~netwire.http.trace.TraceEvent`, it prints connect steps, the proxy
    tunnel, TLS, heads as sent and received, retries and redirects to ``stream`` and keeps the
    moments ``-w`` reports. ``notes`` (stderr unless ``-s``) gets the retry lines even without
    ``-v``, as curl prints them."""

    def __init__(self, stream: TextIO, painter: Painter, notes: TextIO | None = None) -> None:
        self.stream = stream
        self.p = painter
        self.notes = notes
        self.insecure = False
        self.started = time.monotonic()
        self.dns: float | None = None
        self.connect: float | None = None
        self.tls: float | None = None
        self.first_byte: float | None = None
        self.reused = False
        self.version = "1.1"  # of the exchange being traced (the response says which)
        # For -w: the moments (time.monotonic()) the last connection resolved, connected and
        # finished its TLS handshake, and the peer's address.
        self.dns_at: float | None = None
        self.connect_at: float | None = None
        self.tls_at: float | None = None
        self.peer: tuple[str, int] | None = None

    def info(self, text: str) -> None:
        self.stream.write(self.p.paint("* ", "\x1b[2m") + text + "\n")

    def __call__(self, event: Any) -> None:
        name, info, elapsed = event.name, event.info, event.elapsed
        ms = f"{elapsed * 1000:.2f} ms"
        if name == "dns":
            self.dns, self.dns_at = elapsed, event.start + elapsed
            addresses = ", ".join(dict.fromkeys(info["addresses"]))
            self.info(f"{visible(info['host'])} resolved to {addresses} in {ms}")
        elif name == "connect":
            self.connect, self.connect_at = elapsed, event.start + elapsed
            if self.dns_at is None or self.dns_at < event.start - 1.0:
                self.dns = None  # a literal address, or a reused resolution: no DNS this time
            self.tls = self.tls_at = None
            peer = info["peer"]
            self.peer = (str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else None
            via = f"proxy {info['proxy']} at " if info["proxy"] else ""
            where = f"{peer[0]} port {peer[1]}" if self.peer else info["address"]
            self.info(f"connected to {via}{where} in {ms}")
        elif name == "proxy.connect":
            self._block("> ", "\x1b[33m", [visible(info["request_line"])])
            status = info["status"]
            answer = f"{status} {visible(info['reason'])}" if status is not None else "no answer"
            self.info(f"proxy tunnel to {visible(info['target'])}: {answer} in {ms}")
        elif name == "socks5":
            dns = "resolved by the proxy" if info["remote_dns"] else "resolved here"
            self.info(f"SOCKS5 tunnel through {info['proxy']} to {visible(info['target'])} ({dns}) in {ms}")
        elif name == "tls":
            self.tls, self.tls_at = elapsed, event.start + elapsed
            self.info(
                f"TLS {info['version']}, cipher {info['cipher'] or '?'}, ALPN {info['alpn'] or '-'}, "
                f"handshake {ms}"
            )
            self._certificate(info.get("ssl_object"))
        elif name == "pool.acquire":
            self.reused = info["reused"]
            if self.reused:
                self.info(f"re-using the connection to {info['origin']}")
        elif name == "request.head":
            if info["request_line"].endswith(" HTTP/2"):
                self.info("using HTTP/2")
            self._request(info)
        elif name == "response.head":
            self.first_byte = elapsed
            self._response(info)
        elif name == "retry":
            self.info(f"attempt {info['attempt']} failed: {info['reason']}")
            if self.notes is not None:
                left = info["retries_left"]
                self.notes.write(f"netwire: retrying in {info['delay']:.1f} s ({left} left): {info['reason']}\n")
                self.notes.flush()
        elif name == "redirect":
            self.info(f"following redirect to {visible(info['location'])}")

    def _block(self, mark: str, color: str, lines: list[str]) -> None:
        p = self.p
        out = "".join(p.paint(mark, color) + line + "\n" for line in lines)
        self.stream.write(out + p.paint(mark.strip(), color) + "\n")

    def _request(self, info: Any) -> None:
        from ...http.trace import REDACTED

        p = self.p
        lines = [visible(info["request_line"])]
        # Credentials stay off the terminal (and out of pasted bug reports): the hook redacts them.
        lines += [p.header(visible(n), "****" if v == REDACTED else visible(v)) for n, v in info["headers"]]
        self._block("> ", "\x1b[33m", lines)
        fields = {n.lower(): v for n, v in info["headers"]}
        length = fields.get("content-length")
        if length and length != "0":
            self.info(f"request body: {length} bytes")
        elif fields.get("transfer-encoding"):
            self.info("request body: chunked")

    def _response(self, info: Any) -> None:
        p = self.p
        # The trace is for people: control characters a server sent are shown, never acted on.
        lines = [p.status_line(info["http_version"], info["status"], visible(info["reason"]))]
        lines += [p.header(visible(n), visible(v)) for n, v in info["headers"]]
        self._block("< ", "\x1b[36m", lines)

    def _certificate(self, tls: Any) -> None:
        if tls is None:
            return
        cert = peer_certificate(tls)
        if cert:
            self.info(f"peer certificate subject: {_cert_names(cert.get('subject', ()))}")
            self.info(f"peer certificate issuer: {_cert_names(cert.get('issuer', ()))}, "
                      f"expires {cert.get('notAfter', '?')}")
            sans = visible(", ".join(v for k, v in cert.get("subjectAltName", ()) if k in ("DNS", "IP Address")))
            if sans:
                self.info(f"peer certificate names: {sans}")
        if self.insecure:
            self.info(self.p.warning("certificate NOT verified (--insecure)"))

    def timings(self, body_bytes: int) -> None:
        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v * 1000:.2f} ms"

        total = time.monotonic() - self.started
        if self.reused:
            phases = "DNS -, connect -, TLS - (connection reused)"
        else:
            phases = f"DNS {ms(self.dns)}, connect {ms(self.connect)}, TLS {ms(self.tls)}"
        self.info(f"{format_size(body_bytes)} of body; timings: {phases}, first byte {ms(self.first_byte)}, total {ms(total)}")
        self.stream.flush()


def _cert_names(name: Any) -> str:
    short = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU", "countryName": "C",
             "localityName": "L", "stateOrProvinceName": "ST"}
    # Certificate names are the server's text (an unverified one's with -k): shown, never obeyed.
    return visible(", ".join(f"{short.get(k, k)}={v}" for rdn in name for k, v in rdn))


def peer_certificate(sock: Any) -> dict[str, Any]:
    """The peer certificate as ``ssl.getpeercert()`` gives it, also when it was not verified (-k)."""
    cert = sock.getpeercert()
    if cert:
        return dict(cert)
    der = sock.getpeercert(binary_form=True)
    if not der:
        return {}
    import ssl
    import tempfile

    # Unverified certificates come only as DER; the ssl module's decoder takes a PEM file.
    decode = getattr(getattr(ssl, "_ssl", None), "_test_decode_cert", None)
    if decode is None:
        return {}
    with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as f:
        f.write(ssl.DER_cert_to_PEM_cert(der))
    try:
        return dict(decode(f.name))
    except Exception:
        return {}
    finally:
        os.unlink(f.name)


# -- output --------------------------------------------------------------------------------------


def _head_lines(response: Any, painter: Painter, escape: bool = False) -> list[str]:
    show = visible if escape else str
    lines = [painter.status_line(response.http_version, response.status, show(response.reason))]
    lines += [painter.header(show(name), show(value)) for name, value in response.headers.multi_items()]
    return lines


def _write_head(out: IO[bytes], response: Any, painter: Painter, tty: bool) -> None:
    # Piped, the head is byte-exact HTTP (CRLF), as curl -i writes it; on a terminal, plain lines
    # with control characters shown escaped (a reason phrase or header value must not be able to
    # set the window title, clear the screen or write the clipboard).
    eol = "\n" if tty else "\r\n"
    out.write((eol.join(_head_lines(response, painter, tty)) + eol + eol).encode("utf-8", "replace"))


def _is_text_type(ctype: str) -> bool:
    ctype = ctype.split(";")[0].strip().lower()
    return ctype.startswith(_TEXT_TYPES) or ctype.endswith(("+json", "+xml"))


def _is_json_type(ctype: str) -> bool:
    ctype = ctype.split(";")[0].strip().lower()
    return ctype == "application/json" or ctype.endswith("+json")


def _looks_binary(ctype: str, sample: bytes) -> bool:
    if b"\0" in sample:
        return True
    if ctype and _is_text_type(ctype):
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start < len(sample) - 3
    return False


def _copy_body(response: Any, write: Any, progress: TransferProgress | None) -> int:
    """Copy the (decoded) body to ``write`` in big blocks; returns the byte count."""
    buf = bytearray(_BLOCK)
    view = memoryview(buf)
    readinto = response.readinto
    total = 0
    if progress is None:
        while True:
            n = readinto(view)
            if not n:
                return total
            write(view[:n])
            total += n
    while True:
        n = readinto(view)
        if not n:
            return total
        write(view[:n])
        total += n
        progress.update(n)


def _body_to_terminal(args: argparse.Namespace, response: Any, out: BinaryIO, painter: Painter) -> int:
    """Show the body on a terminal: JSON pretty, text as text, binary only as a note."""
    ctype = response.headers.get("content-type", "")
    first = response.read(64 * 1024)
    if not first:
        return 0
    if _looks_binary(ctype, first):
        length = response.headers.get("content-length")
        shown = f"{format_size(int(length))}, " if length and length.isdigit() and not response.headers.get(
            "content-encoding") else ""
        note = (f"[netwire: binary body not shown on a terminal ({shown}{visible(ctype) or 'no Content-Type'}); "
                "use -o FILE or pipe it]")
        out.write((painter.note(note) + "\n").encode("utf-8"))
        return len(first)
    pretty = args.pretty != "never" and _is_json_type(ctype)
    if pretty:
        chunks = [first]
        size = len(first)
        while size <= _PRETTY_LIMIT:
            chunk = response.read(_BLOCK)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        body = b"".join(chunks)
        if size <= _PRETTY_LIMIT:
            try:
                value = _json.loads(body)
            except ValueError:
                pass
            else:
                out.write((painter.json(value) + "\n").encode("utf-8"))
                return size
        first = body
    charset = response.encoding or "utf-8"
    try:
        decoder = codecs.getincrementaldecoder(charset)(errors="replace")
    except LookupError:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    # Text is shown as text, its control characters escaped (TerminalText): a page must not be
    # able to drive the terminal it is read on.
    escaper = TerminalText()
    total = len(first)
    text = decoder.decode(first)
    last = text[-1:]
    out.write(escaper.feed(text).encode("utf-8"))
    while True:
        chunk = response.read(_BLOCK)
        if not chunk:
            break
        total += len(chunk)
        text = decoder.decode(chunk)
        if text:
            last = text[-1]
        out.write(escaper.feed(text).encode("utf-8"))
    text = decoder.decode(b"", final=True)
    if text:
        last = text[-1]
    tail = escaper.feed(text) + escaper.finish()
    if tail:
        out.write(tail.encode("utf-8"))
    if last and last != "\n":
        out.write(b"\n")  # keep the shell prompt off the body's last line
    return total


def _remote_name(url: Any) -> str:
    from ...parse import unquote

    name = unquote(url.pathname.rsplit("/", 1)[-1])
    name = os.path.basename(name.replace("\\", "/"))
    if not name or name in (".", ".."):
        raise UsageError(f"-O: no file name in {url} (use -o FILE)")
    # The name comes from the server's side of things (a URL, maybe a redirect's): a NUL cannot be
    # in a file name at all, and other control characters make names that break terminals and
    # scripts; refuse them, as a name too long for the file system, with a usage error.
    if visible(name) != name:
        raise UsageError(f"-O: the file name in {url} holds control characters ({visible(name)!s}); use -o FILE")
    try:
        encoded = os.fsencode(name)
    except UnicodeError:
        raise UsageError(f"-O: the file name in {url} cannot be encoded for this file system; use -o FILE") from None
    if len(encoded) > 255:
        raise UsageError(f"-O: the file name in {url} is longer than 255 bytes; use -o FILE")
    return name


def _disposition_params(value: str) -> dict[str, str]:
    """The parameters of a Content-Disposition value (RFC 6266), names lower-cased; quoted
    strings unquoted (a ``;`` inside quotes does not end a parameter)."""
    params: dict[str, str] = {}
    i, n = value.find(";"), len(value)
    if i < 0:
        return params
    i += 1
    while i < n:
        eq = value.find("=", i)
        if eq < 0:
            break
        name = value[i:eq].strip().lower()
        i = eq + 1
        while i < n and value[i] in " \t":
            i += 1
        if i < n and value[i] == '"':
            chars: list[str] = []
            i += 1
            while i < n and value[i] != '"':
                if value[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(value[i])
                i += 1
            text = "".join(chars)
            i = value.find(";", i)
            i = n if i < 0 else i + 1
        else:
            end = value.find(";", i)
            end = n if end < 0 else end
            text = value[i:end].strip()
            i = end + 1
        params.setdefault(name, text)
    return params


def _sanitise_file_name(name: str) -> str:
    """A server-given name made safe to create here: its last path segment (``/`` or ``\\``),
    without control characters and without leading dots (no hidden files, no ``..``); "" if nothing is left."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable())
    name = name.lstrip(".").strip()
    try:
        if len(os.fsencode(name)) > 255:
            return ""
    except UnicodeError:
        return ""
    return name


def _header_file_name(response: Any) -> str:
    """-OJ: the file name the Content-Disposition header gives (``filename*`` first, RFC 6266),
    sanitised; the URL's last segment when there is no usable one (as curl does)."""
    from ...parse import unquote

    value = response.headers.get("content-disposition")
    if value:
        params = _disposition_params(value)
        extended = params.get("filename*")
        candidates = []
        if extended:
            charset, _, rest = extended.partition("'")
            _, _, encoded = rest.partition("'")
            try:
                candidates.append(unquote(encoded, encoding=charset or "utf-8", errors="strict"))
            except (LookupError, UnicodeError):
                pass
        if "filename" in params:
            candidates.append(params["filename"])
        for candidate in candidates:
            name = _sanitise_file_name(candidate)
            if name:
                return name
    return _remote_name(response.url)


def _resume_offset(args: argparse.Namespace, path: str | None) -> int:
    if args.resume is None:
        return 0
    if path is None:
        raise UsageError("-C needs -o FILE or -O")
    if args.resume == "-":
        try:
            return os.path.getsize(path)
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise UsageError(f"-C -: cannot read the size of {path}: {exc.strerror or exc}") from None
    try:
        offset = int(args.resume)
    except ValueError:
        raise UsageError(f"-C: expected a byte offset or '-', got {args.resume!r}") from None
    if offset < 0:
        raise UsageError("-C: the offset must be >= 0")
    return offset


def _content_range_total(value: str | None) -> tuple[int | None, int | None]:
    """``bytes 100-199/1000`` -> (100, 1000); ``bytes */1000`` -> (None, 1000)."""
    if not value:
        return None, None
    unit, _, spec = value.strip().partition(" ")
    if unit.lower() != "bytes":
        return None, None
    span, _, total = spec.partition("/")
    start = None
    if span.strip() != "*":
        first = span.partition("-")[0].strip()
        start = int(first) if first.isdigit() else None
    return start, int(total) if total.strip().isdigit() else None


def _check_options(args: argparse.Namespace) -> None:
    if args.output and args.remote_name:
        raise UsageError("use -o FILE or -O, not both")
    if args.fail and args.fail_with_body:
        raise UsageError("--fail and --fail-with-body do not go together (pick one)")
    if args.remote_header_name and not args.remote_name:
        raise UsageError("-J names the -O file: use -OJ (or -O -J)")
    if args.remote_header_name and args.resume is not None:
        raise UsageError("-J and -C do not go together: the file name is known only from the answer")
    if args.clobber and not args.remote_header_name:
        raise UsageError("--clobber goes with -OJ (other outputs are always overwritten)")
    if args.upload_file is not None and args.data_in_query:
        raise UsageError("-T and -G do not go together")
    if args.write_out is not None and args.write_out.startswith("@"):
        args.write_out = _read_arg_file(args.write_out).decode("utf-8", "replace")


def run(args: argparse.Namespace) -> int:
    """Run one HTTP command; returns the exit code."""
    err = sys.stderr
    err_painter = Painter(use_color(err, args.color))
    try:
        _check_options(args)
        spec = build_spec(args)
    except UsageError as exc:
        print(f"netwire: {exc}", file=err)
        return EXIT_USAGE
    except BodyFileError as exc:
        print(f"netwire: {exc}", file=err)
        return EXIT_READ_FILE
    if args.insecure:
        print(err_painter.warning(
            "netwire: WARNING: --insecure: TLS certificates are NOT verified; anyone on the path can read "
            "and change this exchange"), file=err)
    transfer = Transfer(time.monotonic(), url=spec.url, method=spec.method)
    try:
        if args.insecure:
            # The line above is the CLI's own warning: the library's InsecureRequestWarning would repeat it.
            import warnings

            from ...errors import InsecureRequestWarning

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InsecureRequestWarning)
                rc = _run(args, spec, err, err_painter, transfer)
        else:
            rc = _run(args, spec, err, err_painter, transfer)
    finally:
        for f in spec.opened:
            f.close()
    if args.write_out is not None:
        transfer.exitcode = rc
        if transfer.ended is None:
            transfer.ended = time.monotonic()
        write_out(args.write_out, transfer, sys.stdout, err)
    return rc


def _run(args: argparse.Namespace, spec: Spec, err: TextIO, err_painter: Painter, transfer: Transfer) -> int:
    from ...errors import InvalidURL, NetwireError
    from ...url import URL

    try:
        url = URL(spec.url)
    except InvalidURL as exc:
        transfer.errormsg = str(exc)
        return print_error(exc)
    path: str | None = None
    try:
        if args.remote_name and not args.remote_header_name:
            path = _remote_name(url)
        elif args.output and args.output != "-":
            path = args.output
        offset = _resume_offset(args, path)
        trace: Trace | None = None
        # Retries are told on stderr even without -v (as curl does); -s hides them.
        notes = None if args.silent else err
        if args.verbose:
            trace = Trace(err, err_painter, notes)
        elif args.write_out is not None or (args.retry and notes is not None):
            import io

            # -w reports DNS, connect and TLS moments and the peer address: the -v machinery
            # records them; its text goes nowhere (but the retry notes do).
            trace = Trace(io.StringIO(), Painter(False), notes)
        transfer.trace = trace
        client = make_client(args, trace)
    except UsageError as exc:
        print(f"netwire: {exc}", file=err)
        return EXIT_USAGE
    headers = list(spec.headers)
    if offset:
        headers.append(("Range", f"bytes={offset}-"))
        # A byte range of an encoded body cannot be appended to a decoded file: ask for identity.
        headers.append(("Accept-Encoding", "identity"))
    for name in spec.removed:
        if name in client.headers:
            del client.headers[name]
    upload = spec.upload
    if upload is not None and not args.silent and is_tty(err):
        from ...http.http11 import content_length_of

        upload.progress = TransferProgress(err, content_length_of(upload), label=f"upload {os.path.basename(args.upload_file)}")
    transfer.started = time.monotonic()  # curl's times count from here: not the start-up imports
    try:
        with client, client.stream(
            spec.method,
            url,
            params=spec.params or None,
            headers=headers,
            content=spec.content,
            data=spec.data,
            json=spec.json if spec.has_json else None,
            files=spec.files,
        ) as response:
            transfer.head_at = time.monotonic()
            transfer.response = response
            if upload is not None:
                transfer.size_upload = upload.sent
                if upload.progress is not None:
                    upload.progress.finish()
                    upload.progress = None
            else:
                length = response.request.headers.get("content-length")
                transfer.size_upload = int(length) if length and length.isdigit() else 0
            try:
                return _deliver(args, response, path, offset, trace, err, err_painter, transfer)
            finally:
                transfer.ended = time.monotonic()
    except NetwireError as exc:
        if upload is not None and upload.progress is not None:
            upload.progress.abandon()
        transfer.errormsg = str(exc)
        return print_error(exc)


def _dump_head(args: argparse.Namespace, response: Any, err: TextIO) -> int:
    """-D FILE: every head of the exchange (each redirect hop's, then the final one), as on the wire."""
    plain = Painter(False)
    try:
        if args.dump_header == "-":
            out = sys.stdout.buffer
            for hop in (*response.history, response):
                _write_head(out, hop, plain, False)
            out.flush()
        else:
            with open(args.dump_header, "wb") as f:
                for hop in (*response.history, response):
                    _write_head(f, hop, plain, False)
    except OSError as exc:
        print(f"netwire: write error: {args.dump_header}: {exc.strerror or exc}", file=err)
        return EXIT_WRITE
    return EXIT_OK


def _terminal_note(args: argparse.Namespace, response: Any, size: int, err: TextIO, err_painter: Painter) -> None:
    """On a terminal, say what an empty error answer or a redirect not followed would hide.

    curl prints nothing in both cases, and the command looks like it succeeded with no output.
    Only for a person (stderr a terminal, no -s); the exit code is not changed.
    """
    if args.silent or not is_tty(err):
        return
    status = response.status
    location = response.headers.get("location")
    if 300 <= status < 400 and location:
        print(err_painter.note(f"{status} -> {visible(location)} (use -L to follow)"), file=err)
    elif status >= 400 and size == 0 and response.request.method != "HEAD":
        from http import HTTPStatus

        try:
            reason = response.reason or HTTPStatus(status).phrase
        except ValueError:
            reason = response.reason
        print(err_painter.note(f"HTTP {status} {visible(reason)} (empty body)"), file=err)


def _deliver(
    args: argparse.Namespace,
    response: Any,
    path: str | None,
    offset: int,
    trace: Trace | None,
    err: TextIO,
    err_painter: Painter,
    transfer: Transfer,
) -> int:
    status = response.status
    if args.remote_header_name:
        try:
            path = _header_file_name(response)
        except UsageError as exc:
            print(f"netwire: {exc}", file=err)
            return EXIT_USAGE
        if os.path.lexists(path) and not args.clobber:
            print(f"netwire: -J: {path} exists; not overwritten (use --clobber to replace it)", file=err)
            return EXIT_WRITE
    transfer.filename = path or ""
    out = sys.stdout.buffer
    to_stdout = path is None
    out_tty = to_stdout and is_tty(sys.stdout)
    painter = Painter(use_color(sys.stdout, args.color) if to_stdout else False)
    show_head = args.include or args.head
    if args.dump_header is not None:
        code = _dump_head(args, response, err)
        if code:
            return code
    if show_head and to_stdout:
        for hop in response.history:
            _write_head(out, hop, painter, out_tty)
        _write_head(out, response, painter, out_tty)
        out.flush()
    failed = (args.fail or args.fail_with_body) and status >= 400
    if failed and not args.fail_with_body:
        print(f"netwire: HTTP error: {status} {visible(response.reason)} for {response.url} (--fail)", file=err)
        if trace is not None:
            trace.timings(0)
        return EXIT_HTTP_ERROR
    if args.head or response.request.method == "HEAD":
        if path is not None:  # -I -o FILE: the head is what there is to save
            try:
                with open(path, "wb") as f:
                    for hop in response.history:
                        _write_head(f, hop, Painter(False), False)
                    _write_head(f, response, Painter(False), False)
            except OSError as exc:
                print(f"netwire: write error: {path}: {exc.strerror or exc}", file=err)
                return EXIT_WRITE
        if trace is not None:
            trace.timings(0)
        rc = EXIT_OK
    elif path is None:
        forced = args.pretty == "always" and _is_json_type(response.headers.get("content-type", ""))
        if (out_tty and args.pretty != "never") or forced:
            size = _body_to_terminal(args, response, out, painter)
        else:
            progress = _progress_for(args, response, 0, err, None)
            size = _copy_body(response, out.write, progress)
            if progress is not None:
                progress.finish()
        out.flush()
        transfer.size_download = size
        if trace is not None:
            trace.timings(size)
        _terminal_note(args, response, size, err, err_painter)
        rc = EXIT_OK
    else:
        rc = _download(args, response, path, offset, trace, err, err_painter, show_head, transfer)
        if rc == EXIT_OK:
            _terminal_note(args, response, transfer.size_download, err, err_painter)
    if failed and rc == EXIT_OK:
        print(f"netwire: HTTP error: {status} {visible(response.reason)} for {response.url} (--fail-with-body)",
              file=err)
        return EXIT_HTTP_ERROR
    return rc


def _stdout_is_a_file() -> bool:
    import stat

    try:
        return stat.S_ISREG(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


def _progress_for(
    args: argparse.Namespace, response: Any, offset: int, err: TextIO, label: str | None
) -> TransferProgress | None:
    """A progress bar on stderr for a download to a file (-o/-O, or stdout redirected to one),
    when stderr is a terminal and -s was not given; None otherwise."""
    if args.silent or not is_tty(err):
        return None
    if label is None:
        if not _stdout_is_a_file():
            return None  # a pipe: the reader may well be showing things on this terminal
        label = ""
    length = response.headers.get("content-length")
    known = length is not None and length.isdigit() and not response.headers.get("content-encoding")
    total = offset + int(length) if known and length is not None else None
    return TransferProgress(err, total, start=offset, label=label)


def _download(
    args: argparse.Namespace,
    response: Any,
    path: str,
    offset: int,
    trace: Trace | None,
    err: TextIO,
    err_painter: Painter,
    show_head: bool,
    transfer: Transfer,
) -> int:
    from ...errors import NetwireError

    status = response.status
    mode = "wb"
    if offset:
        if status == 206:
            start, _ = _content_range_total(response.headers.get("content-range"))
            if start != offset:
                print(f"netwire: resume error: asked for bytes from {offset}, the server sent "
                      f"{response.headers.get('content-range')!r}; {path} left as it was", file=err)
                return EXIT_RANGE
            mode = "ab"
        elif status == 416:
            _, total = _content_range_total(response.headers.get("content-range"))
            if total == offset:
                if not args.silent:
                    print(f"netwire: {path} is already complete ({format_size(offset)})", file=err)
                return EXIT_OK
            print(f"netwire: resume error: the server refused the range from byte {offset} (416); "
                  f"{path} left as it was", file=err)
            return EXIT_RANGE
        elif 200 <= status < 300:
            print(f"netwire: resume error: the server ignored the Range request (status {status}); "
                  f"{path} left as it was (delete it or drop -C to download it whole)", file=err)
            return EXIT_RANGE
        else:
            # An error page or a redirect is no continuation of the file: never write it over the part.
            print(f"netwire: resume error: the server answered {status} {visible(response.reason)}; {path} left as it "
                  "was",
                  file=err)
            return EXIT_RANGE
    try:
        f = open(path, mode)  # noqa: SIM115 - closed in the finally below, also on Ctrl-C
    except OSError as exc:
        print(f"netwire: write error: cannot open {path}: {exc.strerror or exc}", file=err)
        return EXIT_WRITE
    progress = _progress_for(args, response, offset if mode == "ab" else 0, err, os.path.basename(path))
    written = 0
    raw = f.raw if hasattr(f, "raw") else f
    try:
        with f:
            if show_head:
                _write_head(f, response, Painter(False), False)
                f.flush()

            def write(data: Any) -> None:
                nonlocal written
                # The file object's buffer only adds a copy for blocks this big.
                while data:
                    n = raw.write(data)
                    written += n
                    data = data[n:]

            _copy_body(response, write, progress)
    except KeyboardInterrupt:
        if progress is not None:
            progress.abandon()
        have = os.path.getsize(path) if os.path.exists(path) else 0
        print(f"netwire: interrupted; partial file kept: {path} ({format_size(have)}, {have} bytes); "
              f"resume with: netwire get -C - -o {path} {response.url}", file=err)
        return EXIT_INTERRUPTED
    except OSError as exc:
        if progress is not None:
            progress.abandon()
        if isinstance(exc, NetwireError):
            code = print_error(exc)
            have = os.path.getsize(path) if os.path.exists(path) else 0
            print(f"netwire: partial file kept: {path} ({have} bytes); resume with -C -", file=err)
            return code
        print(f"netwire: write error: {path}: {exc.strerror or exc}", file=err)
        return EXIT_WRITE
    if progress is not None:
        progress.finish()
    transfer.size_download = written
    if trace is not None:
        trace.timings(written)
    return EXIT_OK

