"""Which character encoding a response body is in: the WHATWG rules, sans-IO.

Browsers decide a page's encoding in this order (HTML Standard, "determining the character
encoding"; Encoding Standard, "decode"): a byte order mark, then the ``charset`` of Content-Type,
then, for HTML, a ``<meta charset>`` or ``<meta http-equiv="Content-Type">`` found by the *prescan*
of the first 1024 bytes, and for XML the ``encoding`` of the XML declaration. Crawlers that decode
otherwise (UTF-8 regardless) turn ``café`` on a Latin-1 page into ``caf\\ufffd``.

Labels are mapped the way browsers map them, not the way Python's codec registry does: the
Encoding Standard decodes ``iso-8859-1``, ``latin1`` and ``us-ascii`` as windows-1252 (pages
labelled Latin-1 use its extra characters), ``gb2312``/``gbk`` with the GB18030 decoder,
``shift_jis`` and ``euc-kr`` with the Microsoft supersets. A label browsers do not accept (say
``utf-7``, or ``rot13``, which Python knows) is ignored, as it would be in a browser.

Everything here is a pure function of (header value, leading bytes): no I/O, no state.
"""

from __future__ import annotations

import codecs
import re

#: How many leading bytes the HTML prescan and the XML declaration check look at (HTML Standard).
PRESCAN_BYTES = 1024

# Encoding Standard label -> the Python codec that decodes it as a browser does, where the two
# registries disagree or Python does not know the label.
_LABELS: dict[str, str] = {}
for _codec, _labels in {
    "cp1252": "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 iso8859-1 iso88591 "
    "iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252",
    "cp1254": "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 iso_8859-9:1989 l5 latin5 "
    "windows-1254 x-cp1254",
    "cp874": "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874",
    "gb18030": "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk gb18030",
    "cp932": "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis",
    "cp949": "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 ksc5601 ksc_5601 "
    "windows-949",
    "big5hkscs": "big5 big5-hkscs cn-big5 csbig5 x-x-big5",
    "utf-16-le": "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le",
    "utf-16-be": "unicodefffe utf-16be",
    "utf-8": "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8",
    "mac-roman": "csmacintosh mac macintosh x-mac-roman",
    "mac-cyrillic": "x-mac-cyrillic x-mac-ukrainian",
    "koi8-u": "koi8-ru koi8-u",
    "koi8-r": "cskoi8r koi koi8 koi8-r koi8_r",
    "cp866": "866 cp866 csibm866 ibm866",
    "euc_jp": "cseucpkdfmtjapanese euc-jp x-euc-jp",
    "iso2022_jp": "csiso2022jp iso-2022-jp",
}.items():
    for _label in _labels.split():
        _LABELS[_label] = _codec

# Every other encoding browsers accept, by the Python codec name its labels resolve to.
_ALSO_ACCEPTED = frozenset(
    ["iso8859-2", "iso8859-3", "iso8859-4", "iso8859-5", "iso8859-6", "iso8859-7", "iso8859-8",
     "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-15", "iso8859-16", "cp1250", "cp1251", "cp1253",
     "cp1255", "cp1256", "cp1257", "cp1258"]
)


def codec_for_label(label: str) -> str | None:
    """The Python codec that decodes ``label`` as a browser does, or None for a label browsers reject."""
    label = label.strip("\t\n\f\r ").lower()
    if not label:
        return None
    codec = _LABELS.get(label)
    if codec is not None:
        return codec
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return name if name in _ALSO_ACCEPTED else None


def charset_param(content_type: str | None) -> str | None:
    """The raw ``charset`` parameter of a Content-Type value, unquoted, or None."""
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            value = value.strip().strip('"').strip("'").strip()
            return value or None
    return None


def bom_encoding(data: bytes) -> str | None:
    """The encoding a byte order mark at the start of ``data`` announces (Encoding Standard "BOM sniff")."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"  # the -sig codec drops the mark, as a browser's decoder does
    if data.startswith(b"\xfe\xff"):
        return "utf-16"  # Python's utf-16 reads the mark, picks big-endian, and drops it
    if data.startswith(b"\xff\xfe"):
        return "utf-16"
    return None


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_html(content_type: str | None) -> bool:
    return _media_type(content_type) in ("text/html", "application/xhtml+xml")


def is_xml(content_type: str | None) -> bool:
    media = _media_type(content_type)
    return media in ("text/xml", "application/xml") or media.endswith("+xml")


def sniff(content_type: str | None, head: bytes | None) -> str | None:
    """The Python codec to decode a body with, from its Content-Type and first bytes.

    ``head`` is the start of the body (at least :data:`PRESCAN_BYTES` bytes when the body is that
    long), or None when the body is not available yet (then only the header is consulted). Returns
    None when nothing names an encoding: the caller's default applies (UTF-8 in netwire).
    """
    if head:
        found = bom_encoding(head)
        if found is not None:
            return found
    declared = charset_param(content_type)
    if declared is not None:
        codec = codec_for_label(declared)
        if codec is not None:
            if codec == "utf-8" and head and head.startswith(b"\xef\xbb\xbf"):
                return "utf-8-sig"
            return codec
    if not head:
        return None
    if is_html(content_type):
        return prescan(head[:PRESCAN_BYTES])
    if is_xml(content_type):
        return xml_declaration(head[:PRESCAN_BYTES])
    return None


_XML_DECL = re.compile(rb"""<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:\-]+)["']""")


def xml_declaration(head: bytes) -> str | None:
    """The encoding named by an XML declaration at the very start of ``head`` (XML 1.0, 4.3.3)."""
    if not head.startswith(b"<?xml"):
        return None
    end = head.find(b"?>")
    m = _XML_DECL.match(head if end < 0 else head[: end + 2])
    if m is None:
        return None
    codec = codec_for_label(m.group(1).decode("ascii"))
    # A declaration read as ASCII cannot truthfully name a UTF-16 encoding (that would need a BOM).
    return "utf-8" if codec in ("utf-16-le", "utf-16-be") else codec


# -- the HTML prescan (HTML Standard 13.2.3.2, "prescan a byte stream to determine its encoding") --

_SPACE = b"\t\n\f\r "
_SPACE_OR_SLASH = b"\t\n\f\r /"


def _after_meta_pragma(attrs: dict[bytes, bytes]) -> str | None:
    """Apply the prescan's rules to one <meta> element's attributes."""
    charset: str | None = None
    need_pragma: bool | None = None
    for name, value in attrs.items():  # in document order: the first of charset/content decides
        if name == b"charset" and need_pragma is None:
            charset = codec_for_label(value.decode("latin-1"))
            need_pragma = False
        elif name == b"content" and need_pragma is None:
            label = _charset_from_meta_content(value)
            if label is not None:
                charset = codec_for_label(label)
                need_pragma = True
    if need_pragma is None or charset is None:
        return None
    if need_pragma and attrs.get(b"http-equiv", b"").lower() != b"content-type":
        return None
    if charset in ("utf-16-le", "utf-16-be"):
        return "utf-8"  # the prescan reads ASCII-compatible bytes: a UTF-16 label is a lie
    return charset


def _charset_from_meta_content(content: bytes) -> str | None:
    """HTML Standard "extracting a character encoding from a meta element"."""
    text = content.decode("latin-1")
    lower = text.lower()
    pos = 0
    while True:
        i = lower.find("charset", pos)
        if i < 0:
            return None
        j = i + 7
        while j < len(text) and text[j] in "\t\n\f\r ":
            j += 1
        if j < len(text) and text[j] == "=":
            break
        pos = j
    j += 1
    while j < len(text) and text[j] in "\t\n\f\r ":
        j += 1
    if j >= len(text):
        return None
    if text[j] in "\"'":
        quote = text[j]
        end = text.find(quote, j + 1)
        return None if end < 0 else text[j + 1 : end]
    end = j
    while end < len(text) and text[end] not in "\t\n\f\r ;":
        end += 1
    return text[j:end] or None


def _get_attribute(data: bytes, pos: int) -> tuple[bytes, bytes, int] | None:
    """HTML Standard "get an attribute": (name, value, position after it), or None at the tag's end."""
    n = len(data)
    while pos < n and data[pos] in _SPACE_OR_SLASH:
        pos += 1
    if pos >= n or data[pos] == 0x3E:  # '>'
        return None
    name = bytearray()
    value = bytearray()
    while pos < n:
        c = data[pos]
        if c == 0x3D and name:  # '=' after a non-empty name
            pos += 1
            break
        if c in _SPACE:
            while pos < n and data[pos] in _SPACE:
                pos += 1
            if pos >= n or data[pos] != 0x3D:
                return bytes(name), b"", pos
            pos += 1
            break
        if c in b"/>":
            return bytes(name), b"", pos
        name.append(c + 0x20 if 0x41 <= c <= 0x5A else c)
        pos += 1
    else:
        return None
    while pos < n and data[pos] in _SPACE:
        pos += 1
    if pos >= n:
        return None
    c = data[pos]
    if c in b"\"'":
        end = data.find(bytes([c]), pos + 1)
        if end < 0:
            return None
        raw = data[pos + 1 : end]
        return bytes(name), raw.lower(), end + 1
    if c == 0x3E:
        return bytes(name), b"", pos
    while pos < n and data[pos] not in _SPACE and data[pos] != 0x3E:
        ch = data[pos]
        value.append(ch + 0x20 if 0x41 <= ch <= 0x5A else ch)
        pos += 1
    if pos >= n:
        return None
    return bytes(name), bytes(value), pos


def prescan(data: bytes) -> str | None:
    """The encoding a ``<meta>`` in the first bytes of an HTML document declares, or None."""
    n = len(data)
    pos = 0
    while pos < n:
        if data.startswith(b"<!--", pos):
            end = data.find(b"-->", pos + 2)
            if end < 0:
                return None
            pos = end + 3
            continue
        if data[pos] != 0x3C:  # '<'
            pos += 1
            continue
        if data[pos + 1 : pos + 5].lower() == b"meta" and pos + 5 < n and data[pos + 5] in _SPACE_OR_SLASH:
            pos += 6
            attrs: dict[bytes, bytes] = {}
            while True:
                got = _get_attribute(data, pos)
                if got is None:
                    break
                name, value, pos = got
                attrs.setdefault(name, value)  # the first of a repeated attribute counts
            if pos >= n:
                return None
            found = _after_meta_pragma(attrs)
            if found is not None:
                return found
            continue
        nxt = data[pos + 1 : pos + 2]
        if nxt.isalpha() or (nxt == b"/" and data[pos + 2 : pos + 3].isalpha()):
            # Another tag: skip its name and attributes.
            pos += 2 if nxt == b"/" else 1
            while pos < n and data[pos] not in _SPACE and data[pos] != 0x3E:
                pos += 1
            while (got := _get_attribute(data, pos)) is not None:
                pos = got[2]
            if pos >= n:
                return None
            pos += 1
            continue
        if nxt in (b"!", b"/", b"?"):
            end = data.find(b">", pos + 1)
            if end < 0:
                return None
            pos = end + 1
            continue
        pos += 1
    return None
