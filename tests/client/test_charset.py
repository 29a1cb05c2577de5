"""Which encoding a body is decoded with: the WHATWG rules (BOM, Content-Type, <meta> prescan, XML
declaration), against nginx serving pages with no charset in Content-Type, and the prescan itself."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import netwire
from netwire.http import _charset

LATIN1_PAGE = (
    b'<!DOCTYPE html>\n<html><head><meta charset="iso-8859-1"><title>caf\xe9</title></head>'
    b"<body>caf\xe9 \x80 na\xefve</body></html>\n"
)


def _put(nginx: Any, name: str, data: bytes) -> str:
    path = Path(nginx.root) / "charset" / name
    path.write_bytes(data)
    return nginx.url(f"/charset/{name}")


def test_meta_charset_decides_when_the_header_names_none(nginx: Any) -> None:
    url = _put(nginx, "latin1.html", LATIN1_PAGE)
    with netwire.Client() as client:
        r = client.get(url)
    assert r.headers["content-type"] == "text/html"  # no charset: nginx's default
    # iso-8859-1 decodes as windows-1252, as browsers do: 0x80 is the euro sign.
    assert r.encoding == "cp1252"
    assert "<title>café</title>" in r.text and "café € naïve" in r.text


def test_http_equiv_content_type(nginx: Any) -> None:
    page = (b'<html><head><!-- <meta charset="utf-8"> -->'
            b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"></head>'
            b"<body>\xf0\xd2\xc9\xd7\xc5\xd4</body></html>")
    with netwire.Client() as client:
        r = client.get(_put(nginx, "koi8.html", page))
    assert r.encoding == "koi8-r" and "Привет" in r.text


def test_header_charset_wins_over_meta(nginx: Any) -> None:
    (Path(nginx.root) / "charset" / "declared" / "page.html").write_bytes(
        '<meta charset="iso-8859-1"><p>café</p>'.encode()
    )
    with netwire.Client() as client:
        r = client.get(nginx.url("/charset/declared/page.html"))
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.encoding == "utf-8" and "café" in r.text


def test_byte_order_mark_wins_over_everything(nginx: Any) -> None:
    (Path(nginx.root) / "charset" / "declared" / "bom.html").write_bytes(
        '\ufeff<meta charset="iso-8859-1"><p>ü</p>'.encode("utf-16-le")
    )
    with netwire.Client() as client:
        r = client.get(nginx.url("/charset/declared/bom.html"))
    assert r.encoding == "utf-16" and r.text == '<meta charset="iso-8859-1"><p>ü</p>'


def test_xml_declaration(nginx: Any) -> None:
    doc = '<?xml version="1.0" encoding="ISO-8859-2"?>\n<urlset><loc>Łódź</loc></urlset>'.encode("iso-8859-2")
    with netwire.Client() as client:
        r = client.get(_put(nginx, "feed.xml", doc))
    assert r.headers["content-type"] == "application/xml"
    assert r.encoding == "iso8859-2" and "Łódź" in r.text


def test_nothing_declared_is_utf8(nginx: Any) -> None:
    with netwire.Client() as client:
        r = client.get(_put(nginx, "plain.txt", "naïve\n".encode()))
    assert r.encoding is None and r.text == "naïve\n"


def test_encoding_can_be_overridden(nginx: Any) -> None:
    with netwire.Client() as client:
        r = client.get(_put(nginx, "latin1-again.html", LATIN1_PAGE))
        r.encoding = "latin-1"
        assert r.encoding == "latin-1" and "\x80" in r.text
        with pytest.raises(LookupError):
            r.encoding = "no-such-codec"


def test_streamed_response_consults_only_headers_until_read(nginx: Any) -> None:
    url = _put(nginx, "latin1-stream.html", LATIN1_PAGE)
    with netwire.Client() as client, client.stream("GET", url) as r:
        assert r.encoding is None  # the body is unread: nothing to sniff yet, and nothing consumed
        assert "café" in r.text
        assert r.encoding == "cp1252"


def test_async_text_streaming_sniffs_the_first_kilobyte(nginx: Any) -> None:
    page = b'<html><head><meta charset="windows-1251"></head><body>' + "Ж".encode("cp1251") * 5000 + b"</body>"
    url = _put(nginx, "cp1251.html", page)

    async def main() -> str:
        async with netwire.AsyncClient() as client, client.stream("GET", url) as r:
            pieces = [piece async for piece in r.aiter_text(chunk_size=100)]
        assert len(pieces) > 1  # it streamed
        return "".join(pieces)

    assert asyncio.run(main()) == page.decode("cp1251")


# -- the prescan itself (HTML Standard 13.2.3.2), without a server ------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b'<meta charset="utf-8">', "utf-8"),
        (b"<META CHARSET=Windows-1251>", "cp1251"),
        (b"<meta charset='gbk'>", "gb18030"),
        (b'<meta charset="shift_jis">', "cp932"),
        (b'<meta charset="euc-kr">', "cp949"),
        (b'<meta charset="us-ascii">', "cp1252"),
        (b'<meta charset="utf-16le">', "utf-8"),  # a UTF-16 label in ASCII bytes is a lie
        (b'<meta charset="utf-7">', None),  # browsers refuse UTF-7
        (b'<meta charset="rot13">', None),  # Python knows it; browsers do not
        (b'<meta http-equiv="content-type" content="text/html;charset=iso-8859-5">', "iso8859-5"),
        (b'<meta content="text/html; charset=iso-8859-5">', None),  # content without the pragma
        (b'<meta content="charset=\'koi8-u\'" http-equiv=Content-Type>', "koi8-u"),
        (b'<meta charset="koi8-r" content="text/html; charset=utf-8" http-equiv="content-type">', "koi8-r"),
        (b'<!-- <meta charset="koi8-r"> --><meta charset="iso-8859-2">', "iso8859-2"),
        (b'<div title="<meta charset=koi8-r>"><meta charset=gbk>', "gb18030"),
        (b'<?php <meta charset="koi8-r"> ?><meta charset=latin2>', "iso8859-2"),
        (b"<metacharset=koi8-r>", None),
        (b'<meta/charset="koi8-r">', "koi8-r"),
        (b'<meta charset="koi8-r"', None),  # cut off before the tag ends
        (b"<p>no declaration</p>", None),
    ],
)
def test_prescan(head: bytes, expected: str | None) -> None:
    assert _charset.prescan(head) == expected


def test_prescan_reads_only_the_first_kilobyte() -> None:
    late = b" " * 1100 + b'<meta charset="koi8-r">'
    assert _charset.sniff("text/html", late) is None
    assert _charset.sniff("text/html", late[1000:]) == "koi8-r"


@pytest.mark.parametrize(
    ("label", "codec"),
    [("latin1", "cp1252"), ("ISO-8859-1", "cp1252"), ("iso-8859-9", "cp1254"), ("tis-620", "cp874"),
     ("windows-1250", "cp1250"), ("UTF8", "utf-8"), ("big5", "big5hkscs"), ("x-mac-cyrillic", "mac-cyrillic"),
     ("iso-8859-15", "iso8859-15"), ("", None), ("nonsense", None), ("base64", None)],
)
def test_labels_map_as_browsers_map_them(label: str, codec: str | None) -> None:
    assert _charset.codec_for_label(label) == codec
