"""Percent-encoding: the URL Standard's percent-encode sets, UTF-8 percent-encode and decode.

Each set is kept as a compiled pair (an escaper and a regex matching the runs to escape), built
once at import, so encoding a component that needs nothing costs one regex search. Used by the
host parser, the state machine, the URL fast and medium paths and the form codec. Imports only
the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

# --------------------------------------------------------------------------------------------
# Percent-encode sets (https://url.spec.whatwg.org/#percent-encoded-bytes). Each set is the
# ASCII bytes it adds to the C0 control set (bytes < 0x20 and > 0x7E are always encoded).

_FRAGMENT_SET = ' "<>`'
_QUERY_SET = ' "#<>'
_SPECIAL_QUERY_SET = _QUERY_SET + "'"
_PATH_SET = _QUERY_SET + "?^`{}"
_USERINFO_SET = _PATH_SET + "/:;=@[\\]|"
_COMPONENT_SET = _USERINFO_SET + "$%&+,"
_FORM_SET = _COMPONENT_SET + "!'()~"


_Escaper = Callable[["re.Match[str]"], str]


def _table(extra: str, space: str = "%20") -> tuple[_Escaper, re.Pattern[str]]:
    """For one set: a function escaping a matched run, and a regex matching runs to escape."""
    table = [chr(b) if 0x20 <= b < 0x7F and chr(b) not in extra else f"%{b:02X}" for b in range(256)]
    table[0x20] = space if " " in extra else " "

    def escape(m: re.Match[str]) -> str:
        return "".join([table[b] for b in m.group().encode("utf-8")])

    cls = "".join(re.escape(c) for c in extra)
    return escape, re.compile(f"(?:[^\\x20-\\x7e]|[{cls}])+" if cls else "[^\\x20-\\x7e]+")


_C0_T, _C0_RE = _table("")
_FRAGMENT_T, _FRAGMENT_RE = _table(_FRAGMENT_SET)
_QUERY_T, _QUERY_RE = _table(_QUERY_SET)
_SPECIAL_QUERY_T, _SPECIAL_QUERY_RE = _table(_SPECIAL_QUERY_SET)
_PATH_T, _PATH_RE = _table(_PATH_SET)
_USERINFO_T, _USERINFO_RE = _table(_USERINFO_SET)
_FORM_T, _FORM_RE = _table(_FORM_SET, space="+")


def _encode(s: str, escape: _Escaper, needs: re.Pattern[str]) -> str:
    """UTF-8 percent-encode ``s`` with one set (the text is already free of lone surrogates).

    Only the runs that need it are encoded: most components have none, or a few short ones.
    """
    if needs.search(s) is None:
        return s
    return needs.sub(escape, s)


# A raw string: re reads the escapes (mypyc, the compiled build, rejects surrogates in literals).
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")


def _usv(s: str) -> str:
    """Lone surrogates become U+FFFD, as a USVString conversion would do."""
    if s.isascii():
        return s
    return _SURROGATE_RE.sub("\ufffd", s)


_HEX = "0123456789abcdefABCDEF"
_PCT_RE = re.compile(b"%([0-9A-Fa-f]{2})")


def _percent_decode(data: bytes) -> bytes:
    if b"%" not in data:
        return data
    return _PCT_RE.sub(lambda m: bytes((int(m.group(1), 16),)), data)


_C = TypeVar("_C", bound=type)


def python_class(cls: _C) -> _C:
    """Return ``cls`` unchanged: keeps it a plain Python class in the compiled build (mypyc).

    The url package's copy of :func:`netwire._mypyc.python_class` (this package imports nothing of
    netwire but its errors); see there, and docs/architecture.md ("Compiled build"), for why.
    """
    return cls
