"""UTS #46 processing for the WHATWG "domain to ASCII" of non-ASCII hosts.

The URL Standard asks for UTS #46 ToASCII with CheckHyphens=false, CheckBidi=true,
CheckJoiners=true, UseSTD3ASCIIRules=false, Transitional_Processing=false and
VerifyDnsLength=false. The ``idna`` package's own ``encode`` applies IDNA2008's stricter code point
classes (it refuses symbols such as U+2665 that UTS #46 accepts), so we run the UTS #46 algorithm
here and borrow only ``idna``'s data tables (the mapping table and the joining types). ``idna`` is
imported on first use, so an all-ASCII host never pays for it.

Only :func:`domain_to_ascii` is meant to be called from outside.
"""

from __future__ import annotations

import bisect
import unicodedata
from typing import Any

__all__ = ["domain_to_ascii"]

_starts: list[int] | None = None
_rows: tuple[Any, ...] = ()
_joining: dict[int, int] = {}


def _load() -> None:
    global _starts, _rows, _joining
    try:
        from idna import idnadata, uts46data
    except ImportError as exc:  # pragma: no cover - idna is installed with the "idna" extra
        raise ImportError(
            "netwire needs the 'idna' package to handle non-ASCII host names: pip install idna"
        ) from exc
    # Typed as Any: the two layouts below come from different idna releases, whose type hints differ.
    tables: Any = uts46data
    joining_types: Any = idnadata.joining_types
    if hasattr(tables, "uts46data"):
        _rows = tables.uts46data
        _joining = joining_types()
    else:
        # idna >= 3.14 keeps the same table as parallel arrays (statuses as bytes) and the
        # joining types as ranges per type: rebuild the row and code-point forms used here.
        starts, statuses, replacements = tables.uts46_starts, tables.uts46_statuses, tables.uts46_replacements
        _rows = tuple(
            (starts[i], chr(statuses[i])) if replacements[i] is None else (starts[i], chr(statuses[i]), replacements[i])
            for i in range(len(starts))
        )
        joining: dict[int, int] = {}
        for kind, ranges in joining_types.items():
            for encoded in ranges:
                for cp in range(encoded >> 32, encoded & 0xFFFFFFFF):
                    joining[cp] = ord(kind)
        _joining = joining
    _starts = [row[0] for row in _rows]


def _map(domain: str) -> tuple[str, bool]:
    """Apply the UTS #46 mapping step; also say whether a disallowed code point was seen."""
    assert _starts is not None
    out: list[str] = []
    bad = False
    starts = _starts
    rows = _rows
    for ch in domain:
        cp = ord(ch)
        if cp < 0x80:
            # ASCII is valid under UseSTD3ASCIIRules=false, only upper case letters map.
            out.append(ch.lower())
            continue
        row = rows[bisect.bisect_right(starts, cp) - 1]
        status = row[1]
        if status == "V" or status == "D":
            out.append(ch)
        elif status == "M":
            out.append(row[2])
        elif status == "I":
            continue
        else:
            bad = True
            out.append(ch)
    return "".join(out), bad


def _status(cp: int) -> str:
    assert _starts is not None
    if cp < 0x80:
        return "V"
    return str(_rows[bisect.bisect_right(_starts, cp) - 1][1])


_RTL = frozenset(("R", "AL", "AN"))
_RTL_ALLOWED = frozenset(("R", "AL", "AN", "EN", "ES", "CS", "ET", "ON", "BN", "NSM"))
_LTR_ALLOWED = frozenset(("L", "EN", "ES", "CS", "ET", "ON", "BN", "NSM"))


def _bidi_ok(label: str) -> bool:
    """RFC 5893 section 2, the six rules, for one label of a Bidi domain name."""
    if not label:
        return True
    classes = [unicodedata.bidirectional(c) for c in label]
    first = classes[0]
    if first in ("R", "AL"):
        if any(c not in _RTL_ALLOWED for c in classes):
            return False
        trimmed = list(classes)
        while trimmed and trimmed[-1] == "NSM":
            trimmed.pop()
        if not trimmed or trimmed[-1] not in ("R", "AL", "EN", "AN"):
            return False
        return not ("EN" in classes and "AN" in classes)
    if first == "L":
        if any(c not in _LTR_ALLOWED for c in classes):
            return False
        trimmed = list(classes)
        while trimmed and trimmed[-1] == "NSM":
            trimmed.pop()
        return bool(trimmed) and trimmed[-1] in ("L", "EN")
    return False


def _joiners_ok(label: str) -> bool:
    """RFC 5892 appendix A.1 and A.2 (CONTEXTJ rules for ZWNJ and ZWJ)."""
    for i, ch in enumerate(label):
        if ch not in "\u200c\u200d":
            continue
        if i > 0 and unicodedata.combining(label[i - 1]) == 9:  # a virama before it
            continue
        if ch == "\u200d":
            return False
        # ZWNJ between a left- (or dual-) joining and a right- (or dual-) joining letter,
        # transparent letters allowed on both sides.
        ok = False
        for j in range(i - 1, -1, -1):
            jt = _joining.get(ord(label[j]))
            if jt == ord("T"):
                continue
            ok = jt in (ord("L"), ord("D"))
            break
        if not ok:
            return False
        ok = False
        for j in range(i + 1, len(label)):
            jt = _joining.get(ord(label[j]))
            if jt == ord("T"):
                continue
            ok = jt in (ord("R"), ord("D"))
            break
        if not ok:
            return False
    return True


def _label_valid(label: str) -> bool:
    """UTS #46 section 4.1 validity criteria (nontransitional, CheckHyphens=false)."""
    if unicodedata.normalize("NFC", label) != label:
        return False
    if label[:4].lower() == "xn--":
        return False
    if "." in label:
        return False
    if unicodedata.category(label[0]).startswith("M"):
        return False
    for ch in label:
        status = _status(ord(ch))
        if status not in ("V", "D"):
            return False
    return _joiners_ok(label)


def domain_to_ascii(domain: str) -> str | None:
    """UTS #46 ToASCII with the URL Standard's options; ``None`` on failure.

    The caller handles the all-ASCII case (plain lower-casing, per the URL Standard) itself.
    """
    if _starts is None:
        _load()
    mapped, bad = _map(domain)
    if bad:
        return None
    mapped = unicodedata.normalize("NFC", mapped)
    labels = mapped.split(".")
    decoded: list[str] = []
    for label in labels:
        if label[:4].lower() == "xn--":
            if not label.isascii():
                return None
            try:
                uni = label[4:].encode("ascii").decode("punycode")
            except (UnicodeError, ValueError, OverflowError):
                return None
            if not uni or uni.isascii():
                return None
            if not _label_valid(uni):
                return None
            decoded.append(uni)
        else:
            if label and not _label_valid(label):
                return None
            decoded.append(label)
    if any(unicodedata.bidirectional(c) in _RTL for label in decoded for c in label):
        for label in decoded:
            if not _bidi_ok(label):
                return None
    out: list[str] = []
    for label, uni in zip(labels, decoded, strict=True):
        if label.isascii():
            out.append(label)
        else:
            try:
                out.append("xn--" + uni.encode("punycode").decode("ascii"))
            except UnicodeError:
                return None
    result = ".".join(out)
    return result or None
