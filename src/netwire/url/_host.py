"""Hosts: the URL Standard's host parser (IPv4 in every accepted form, IPv6, domains, opaque hosts).

A domain goes to ASCII through :mod:`._idna` (UTS #46) only when it is not ASCII already. The
parser result is cached per (text, opaque): a client meets the same few hosts again and again.
Failures raise :class:`_Fail`, which the state machine and the URL paths turn into
:class:`netwire.errors.InvalidURL`.
"""

from __future__ import annotations

import re

from ._percent import _C0_RE, _C0_T, _HEX, _encode, _percent_decode

# --------------------------------------------------------------------------------------------
# Hosts


class _Fail(Exception):
    """Internal: the parser returned failure; the message says why."""


_FORBIDDEN_HOST_RE = re.compile(r"[\x00\t\n\r #/:<>?@\[\\\]^|]")
_FORBIDDEN_DOMAIN_RE = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")


def _ipv4_number(part: str) -> int | None:
    if not part:
        return None
    radix = 10
    if part[:2] in ("0x", "0X"):
        radix, part = 16, part[2:]
    elif len(part) >= 2 and part[0] == "0":
        radix, part = 8, part[1:]
    if not part:
        return 0
    digits = "0123456789abcdefABCDEF" if radix == 16 else "01234567" if radix == 8 else "0123456789"
    for ch in part:
        if ch not in digits:
            return None
    return int(part, radix)


def _ends_in_number(host: str) -> bool:
    parts = host.split(".")
    if parts[-1] == "":
        if len(parts) == 1:
            return False
        parts.pop()
    last = parts[-1]
    if last and last.isascii() and last.isdigit():
        return True
    return last[:2] in ("0x", "0X") and _ipv4_number(last) is not None


def _parse_ipv4(host: str) -> str:
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        raise _Fail(f"IPv4 address {host!r} has more than four parts")
    numbers: list[int] = []
    for part in parts:
        n = _ipv4_number(part)
        if n is None:
            raise _Fail(f"IPv4 address {host!r} has a part that is not a number: {part!r}")
        numbers.append(n)
    for n in numbers[:-1]:
        if n > 255:
            raise _Fail(f"IPv4 address {host!r} has a part above 255")
    if numbers[-1] >= 256 ** (5 - len(numbers)):
        raise _Fail(f"IPv4 address {host!r} is out of range")
    value = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value += n * 256 ** (3 - i)
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def _parse_ipv6(text: str) -> str:
    """Parse the inside of ``[...]`` and return its canonical serialisation (no brackets)."""
    address = [0] * 8
    piece = 0
    compress: int | None = None
    p = 0
    n = len(text)

    def at(i: int) -> str:
        return text[i] if i < n else ""

    bad = f"invalid IPv6 address [{text}]"
    if at(0) == ":":
        if at(1) != ":":
            raise _Fail(bad)
        p = 2
        piece = 1
        compress = 1
    while p < n:
        if piece == 8:
            raise _Fail(bad + ": too many pieces")
        if text[p] == ":":
            if compress is not None:
                raise _Fail(bad + ": more than one '::'")
            p += 1
            piece += 1
            compress = piece
            continue
        value = length = 0
        while length < 4 and p < n and text[p] in _HEX:
            value = value * 16 + int(text[p], 16)
            p += 1
            length += 1
        c = at(p)
        if c == ".":
            if length == 0:
                raise _Fail(bad)
            p -= length
            if piece > 6:
                raise _Fail(bad + ": no room for an IPv4 part")
            seen = 0
            while p < n:
                v4: int | None = None
                if seen > 0:
                    if text[p] == "." and seen < 4:
                        p += 1
                    else:
                        raise _Fail(bad)
                if not at(p).isdigit() or not at(p).isascii():
                    raise _Fail(bad)
                while p < n and "0" <= text[p] <= "9":
                    d = ord(text[p]) - 48
                    if v4 is None:
                        v4 = d
                    elif v4 == 0:
                        raise _Fail(bad + ": leading zero in its IPv4 part")
                    else:
                        v4 = v4 * 10 + d
                    if v4 > 255:
                        raise _Fail(bad + ": IPv4 part above 255")
                    p += 1
                assert v4 is not None
                address[piece] = address[piece] * 0x100 + v4
                seen += 1
                if seen in (2, 4):
                    piece += 1
            if seen != 4:
                raise _Fail(bad + ": IPv4 part too short")
            break
        elif c == ":":
            p += 1
            if p >= n:
                raise _Fail(bad)
        elif c != "":
            raise _Fail(bad + f": unexpected {c!r}")
        address[piece] = value
        piece += 1
    if compress is not None:
        swaps = piece - compress
        piece = 7
        while piece != 0 and swaps > 0:
            j = compress + swaps - 1
            address[piece], address[j] = address[j], address[piece]
            piece -= 1
            swaps -= 1
    elif piece != 8:
        raise _Fail(bad + ": too few pieces")
    # Serialise: the first longest run (length > 1) of zero pieces becomes "::".
    best_start, best_len = -1, 1
    i = 0
    while i < 8:
        if address[i] == 0:
            j = i
            while j < 8 and address[j] == 0:
                j += 1
            if j - i > best_len:
                best_start, best_len = i, j - i
            i = j
        else:
            i += 1
    if best_start < 0:
        return ":".join(f"{x:x}" for x in address)
    head = ":".join(f"{x:x}" for x in address[:best_start])
    tail = ":".join(f"{x:x}" for x in address[best_start + best_len :])
    return f"{head}::{tail}"


def _domain_to_ascii(domain: str) -> str:
    if domain.isascii():
        # The standard's own shortcut: an ASCII domain is only lower-cased (no label checks).
        result = domain.lower()
    else:
        from ._idna import domain_to_ascii

        converted = domain_to_ascii(domain)
        if converted is None:
            raise _Fail(f"host {domain!r} is not a valid international domain name")
        result = converted
    if not result:
        raise _Fail("empty host")
    return result


_HOST_CACHE: dict[tuple[str, bool], str] = {}
_HOST_CACHE_MAX = 1024


def _parse_host(text: str, opaque: bool) -> str:
    """The host parser, with a small cache: a client meets the same few hosts again and again."""
    key = (text, opaque)
    host = _HOST_CACHE.get(key)
    if host is None:
        host = _parse_host_uncached(text, opaque)
        if len(_HOST_CACHE) >= _HOST_CACHE_MAX:
            _HOST_CACHE.clear()
        _HOST_CACHE[key] = host
    return host


def _parse_host_uncached(text: str, opaque: bool) -> str:
    """The host parser; returns the serialised host."""
    if text[:1] == "[":
        if text[-1:] != "]":
            raise _Fail(f"IPv6 host {text!r} lacks its closing ']'")
        return "[" + _parse_ipv6(text[1:-1]) + "]"
    if opaque:
        m = _FORBIDDEN_HOST_RE.search(text)
        if m is not None:
            raise _Fail(f"host {text!r} contains the forbidden character {m.group()!r}")
        return _encode(text, _C0_T, _C0_RE)
    if "%" in text:
        domain = _percent_decode(text.encode("utf-8")).decode("utf-8", "replace")
    else:
        domain = text
    ascii_domain = _domain_to_ascii(domain)
    m = _FORBIDDEN_DOMAIN_RE.search(ascii_domain)
    if m is not None:
        raise _Fail(f"host {ascii_domain!r} contains the forbidden character {m.group()!r}")
    if _ends_in_number(ascii_domain):
        return _parse_ipv4(ascii_domain)
    return ascii_domain
