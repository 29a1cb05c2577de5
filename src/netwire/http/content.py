"""Request bodies: bytes, files and iterators as given; forms, JSON and multipart encoded.

Everything here returns ``(headers, body)``: the Content-Type / Content-Length /
Transfer-Encoding fields to add, and a body the connection can send: bytes, a file object
read in blocks, or an iterable of bytes. Multipart bodies stream files from disk part by
part, so a 1 GiB upload costs a block of memory, not a gigabyte.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO

from .http11 import content_length_of

__all__ = ["encode_request_body", "form_urlencode", "iter_file"]

BLOCK_SIZE = 64 * 1024

# WHATWG application/x-www-form-urlencoded: these bytes pass as they are, space becomes "+".
_FORM_SAFE = frozenset(b"*-._0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_FORM_TABLE = [chr(b) if b in _FORM_SAFE else "+" if b == 0x20 else f"%{b:02X}" for b in range(256)]


def _form_escape(value: str | bytes) -> str:
    data = value.encode("utf-8") if isinstance(value, str) else value
    table = _FORM_TABLE
    return "".join([table[b] for b in data])


def _pairs(data: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    items = data.items() if isinstance(data, Mapping) else data
    for key, value in items:
        if isinstance(value, list | tuple):
            for v in value:
                yield str(key), v
        else:
            yield str(key), value


def _scalar(value: Any) -> str | bytes:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, bytes | str):
        return value
    return str(value)


def form_urlencode(data: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> str:
    """``a=1&b=x+y``: lists give repeated keys, None gives an empty value."""
    return "&".join(f"{_form_escape(k)}={_form_escape(_scalar(v))}" for k, v in _pairs(data))


def iter_file(f: BinaryIO, block_size: int = BLOCK_SIZE) -> Iterator[bytes]:
    """A binary file in blocks, from its current position to its end."""
    read = f.read
    while True:
        block = read(block_size)
        if not block:
            return
        if isinstance(block, str):
            raise TypeError("request body files must be opened in binary mode ('rb')")
        yield block


def encode_request_body(
    *,
    content: Any = None,
    data: Any = None,
    json: Any = None,
    files: Any = None,
) -> tuple[list[tuple[str, str]], Any]:
    """The body fields and the body for the ``content``/``data``/``json``/``files`` arguments."""
    if files is not None:
        return _multipart(data or {}, files)
    if json is not None:
        import json as _json

        body = _json.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        return [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body
    if data is not None and content is None:
        if isinstance(data, Mapping) or (isinstance(data, list | tuple) and all(isinstance(x, tuple) for x in data)):
            body = form_urlencode(data).encode("ascii")
            return [
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Content-Length", str(len(body))),
            ], body
        content = data  # bytes, a file or an iterator given as data: send it as is
    if content is None:
        return [], None
    if isinstance(content, str):
        content = content.encode("utf-8")
    length = content_length_of(content)
    if length is not None:
        return [("Content-Length", str(length))], content
    if hasattr(content, "read"):
        return [("Transfer-Encoding", "chunked")], content
    if isinstance(content, Iterable):
        return [("Transfer-Encoding", "chunked")], content
    raise TypeError(f"cannot send a request body of type {type(content).__name__}")


class _Part:
    __slots__ = ("body", "head", "length")

    def __init__(self, head: bytes, body: Any, length: int | None) -> None:
        self.head = head
        self.body = body
        self.length = length


def _quote_param(value: str) -> str:
    # RFC 7578 4.2 / WHATWG: escape the three characters that would end the quoted string.
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _multipart(data: Any, files: Any) -> tuple[list[tuple[str, str]], Any]:
    import mimetypes
    import secrets

    boundary = secrets.token_hex(16)
    parts: list[_Part] = []
    for name, value in _pairs(data):
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote_param(name)}"\r\n\r\n'
        body = _scalar(value)
        raw = body.encode("utf-8") if isinstance(body, str) else body
        parts.append(_Part(head.encode("utf-8"), raw, len(raw)))
    file_items = files.items() if isinstance(files, Mapping) else files
    for name, spec in file_items:
        filename: str | None
        content_type: str | None = None
        extra: Mapping[str, str] = {}
        if isinstance(spec, tuple):
            filename, fileobj = spec[0], spec[1]
            if len(spec) > 2:
                content_type = spec[2]
            if len(spec) > 3:
                extra = spec[3]
        else:
            fileobj = spec
            filename = os.path.basename(getattr(spec, "name", "") or "") or name
        if isinstance(fileobj, str | os.PathLike) and not isinstance(fileobj, str | bytes):
            fileobj = open(fileobj, "rb")  # noqa: SIM115 - closed by the reader when the part is sent
        if isinstance(fileobj, str):
            fileobj = fileobj.encode("utf-8")
        if content_type is None:
            content_type = (filename and mimetypes.guess_type(filename)[0]) or "application/octet-stream"
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote_param(str(name))}"'
        if filename is not None:
            head += f'; filename="{_quote_param(filename)}"'
        head += f"\r\nContent-Type: {content_type}\r\n"
        for k, v in extra.items():
            head += f"{k}: {v}\r\n"
        head += "\r\n"
        parts.append(_Part(head.encode("utf-8"), fileobj, content_length_of(fileobj)))
    tail = f"--{boundary}--\r\n".encode("ascii")
    total: int | None = len(tail)
    for part in parts:
        if part.length is None or total is None:
            total = None
        else:
            total += len(part.head) + part.length + 2
    headers = [("Content-Type", f"multipart/form-data; boundary={boundary}")]
    if total is not None:
        headers.append(("Content-Length", str(total)))
    else:
        headers.append(("Transfer-Encoding", "chunked"))
    return headers, _MultipartBody(parts, tail)


class _MultipartBody:
    """An iterable multipart body; files are read block by block while sending."""

    def __init__(self, parts: list[_Part], tail: bytes) -> None:
        self._parts = parts
        self._tail = tail
        self._starts = [p.body.tell() if hasattr(p.body, "tell") else None for p in parts]

    def rewind(self) -> bool:
        """Prepare to send again (for a redirect or retry); False if a part cannot be replayed."""
        for part, start in zip(self._parts, self._starts, strict=True):
            if isinstance(part.body, bytes | bytearray):
                continue
            if start is None or not hasattr(part.body, "seek"):
                return False
            part.body.seek(start)
        return True

    def __iter__(self) -> Iterator[bytes]:
        for part in self._parts:
            yield part.head
            body = part.body
            if isinstance(body, bytes | bytearray | memoryview):
                yield bytes(body)
            elif hasattr(body, "read"):
                yield from iter_file(body)
            else:
                yield from body
            yield b"\r\n"
        yield self._tail
