"""``-w/--write-out FORMAT``: curl's report line after a transfer, with curl's variable names.

``%{name}`` is replaced by the value of ``name`` (table :data:`VARIABLES`), ``%{header{Name}}`` by
a response header, ``%{json}`` by every variable as one JSON object, ``%%`` by ``%``; ``\\n``,
``\\r``, ``\\t`` and ``\\\\`` are control characters as in curl. ``%{stderr}`` / ``%{stdout}``
switch where the rest goes. Times are seconds from the start of the command to the moment named
(curl's meaning); a moment that did not happen on this transfer (no DNS for an IP literal, no new
connection on a reused one, no TLS over http) is 0, as curl reports it.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = ["VARIABLES", "Transfer", "render", "write_out"]


@dataclass
class Transfer:
    """What one command did, as far as ``-w`` reports it."""

    started: float  # time.monotonic() when the request was started
    url: str = ""  # the URL asked for: url_effective when there was no response
    method: str = ""
    response: Any = None
    head_at: float | None = None  # the final response's head received
    ended: float | None = None
    size_download: int = 0
    size_upload: int = 0
    exitcode: int = 0
    errormsg: str = ""
    filename: str = ""
    trace: Any = None  # the silent -v Trace: DNS, connect and TLS moments, the peer's address

    def _since(self, moment: float | None) -> float:
        return max(moment - self.started, 0.0) if moment is not None else 0.0

    def values(self) -> dict[str, Any]:
        """Every variable's value (numbers as numbers, for %{json})."""
        r = self.response
        t = self.trace
        total = self._since(self.ended if self.ended is not None else time.monotonic())
        namelookup = self._since(getattr(t, "dns_at", None))
        connect = self._since(getattr(t, "connect_at", None))
        appconnect = self._since(getattr(t, "tls_at", None))
        peer = getattr(t, "peer", None) or ("", 0)
        return {
            "http_code": r.status if r is not None else 0,
            "response_code": r.status if r is not None else 0,
            "http_version": str(r.http_version).removeprefix("HTTP/") if r is not None else "0",
            "method": self.method,
            "url_effective": str(r.url) if r is not None else self.url,
            "num_redirects": len(r.history) if r is not None else 0,
            "content_type": (r.headers.get("content-type") or "") if r is not None else "",
            "remote_ip": str(peer[0]).removeprefix("::ffff:") if peer[0] else "",
            "remote_port": int(peer[1]) if peer[0] else 0,
            "size_download": self.size_download,
            "size_upload": self.size_upload,
            "speed_download": int(self.size_download / total) if total > 0 else 0,
            "speed_upload": int(self.size_upload / total) if total > 0 else 0,
            "time_namelookup": namelookup,
            "time_connect": connect,
            "time_appconnect": appconnect,
            "time_pretransfer": max(connect, appconnect),
            "time_starttransfer": self._since(self.head_at),
            "time_total": total,
            "filename_effective": self.filename,
            "exitcode": self.exitcode,
            "errormsg": self.errormsg,
        }


#: The variables ``-w`` knows (curl's names), for the help and the docs.
VARIABLES = (*Transfer(0.0, ended=0.0).values(), "header{NAME}", "json", "stdout", "stderr")

_TOKEN = re.compile(r"%%|%\{header\{([^}]*)\}\}|%\{([A-Za-z_]+)\}|\\[nrt\\]")
_ESCAPES = {"\\n": "\n", "\\r": "\r", "\\t": "\t", "\\\\": "\\"}


def _text(name: str, value: Any) -> str:
    if name == "http_code" or name == "response_code":
        return f"{value:03d}"
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


def render(fmt: str, transfer: Transfer, unknown: list[str]) -> list[tuple[str, str]]:
    """``fmt`` filled in, as (stream name, text) pieces; names of unknown variables go to ``unknown``."""
    from .color import visible

    values = transfer.values()
    pieces: list[tuple[str, str]] = []
    stream = "stdout"
    pos = 0
    for m in _TOKEN.finditer(fmt):
        pieces.append((stream, fmt[pos : m.start()]))
        pos = m.end()
        token = m.group(0)
        if token == "%%":
            pieces.append((stream, "%"))
        elif token in _ESCAPES:
            pieces.append((stream, _ESCAPES[token]))
        elif m.group(1) is not None:
            r = transfer.response
            value = r.headers.get(m.group(1)) if r is not None else None
            # What a server sent is shown, never obeyed (a header must not drive the terminal).
            pieces.append((stream, visible(value or "")))
        else:
            name = m.group(2)
            if name in ("stdout", "stderr"):
                stream = name
            elif name == "json":
                pieces.append((stream, json.dumps(values)))
            elif name in values:
                pieces.append((stream, visible(_text(name, values[name]))))
            else:
                unknown.append(name)
    pieces.append((stream, fmt[pos:]))
    return [p for p in pieces if p[1]]


def write_out(fmt: str, transfer: Transfer, stdout: TextIO, stderr: TextIO) -> None:
    """Print ``fmt`` filled in (unknown variables are reported on stderr and print nothing)."""
    from .color import visible

    unknown: list[str] = []
    pieces = render(fmt, transfer, unknown)
    for name in unknown:
        print(f"netwire: -w: unknown variable %{{{visible(name)}}} (see docs/cli.md)", file=stderr)
    for stream, text in pieces:
        (stderr if stream == "stderr" else stdout).write(text)
    stdout.flush()
    stderr.flush()
