"""Request bodies of the HTTP commands, read from disk as they are sent, never whole.

``-d @big.bin`` and ``-T big.bin`` send files of any size at the cost of one block of memory: a
single file is handed to the client as the open file (its length comes from the file system, so
it goes out with a Content-Length); several ``-d`` pieces are joined with ``&`` by
:class:`JoinedBody`, a seekable reader over the pieces, whose length is known too (servers that
refuse chunked uploads still take it) and which can be rewound for a retry or a 307 redirect.
"""

from __future__ import annotations

import io
import os
from typing import Any, BinaryIO

from .progress import Progress

__all__ = ["JoinedBody", "ProgressReader", "urlencode_piece"]


class JoinedBody(io.RawIOBase):
    """The concatenation of byte strings and open binary files, read block by block.

    Each file's length is taken when the body is built (``os.fstat``); a file that grows or
    shrinks while it is sent would make the Content-Length wrong, so reading past its end or
    finding it short raises an OSError instead of sending a body of the wrong size.
    """

    def __init__(self, pieces: list[bytes | BinaryIO]) -> None:
        super().__init__()
        self._pieces: list[tuple[bytes | BinaryIO, int, int]] = []  # (piece, start offset, length)
        offset = 0
        for piece in pieces:
            length = len(piece) if isinstance(piece, bytes) else os.fstat(piece.fileno()).st_size
            self._pieces.append((piece, offset, length))
            offset += length
        self._size = offset
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        self._pos = max(base + offset, 0)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        for piece, start, length in self._pieces:
            if start <= self._pos < start + length:
                within = self._pos - start
                want = min(len(view), length - within)
                if isinstance(piece, bytes):
                    view[:want] = piece[within : within + want]
                    n = want
                else:
                    piece.seek(within)
                    n = piece.readinto(view[:want])  # type: ignore[attr-defined]
                    if not n:
                        raise OSError(f"{getattr(piece, 'name', 'a body file')} got shorter while it was sent")
                self._pos += n
                return n
        return 0


class ProgressReader(io.RawIOBase):
    """A file being uploaded, read through while a :class:`Progress` bar counts the bytes.

    ``fileno`` and ``tell`` are the file's, so the client still finds the file's length (and sends
    a Content-Length); only ``read``/``readinto`` are counted.
    """

    def __init__(self, f: BinaryIO, progress: Progress | None) -> None:
        super().__init__()
        self._f = f
        self.progress = progress
        self.sent = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._f.seekable()

    def fileno(self) -> int:
        return self._f.fileno()

    def tell(self) -> int:
        return self._f.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._f.seek(offset, whence)

    def readinto(self, buffer: Any) -> int:
        n = self._f.readinto(buffer)  # type: ignore[attr-defined]
        if n:
            self.sent += n
            if self.progress is not None:
                self.progress.update(n)
        return n or 0


def urlencode_piece(value: str, read_file: Any) -> bytes:
    """One ``--data-urlencode`` argument, in curl's forms: ``content``, ``=content``,
    ``name=content``, ``@file``, ``name@file``: the content (or the file's) percent-encoded
    (everything but ``A-Z a-z 0-9 - . _ ~``, a space as ``%20``), the name kept as given.

    ``read_file(path)`` returns a file's bytes (such a file is read whole: it becomes part of a
    string, as in curl)."""
    from ..parse import quote_from_bytes

    cut = min((i for i in (value.find("="), value.find("@")) if i >= 0), default=-1)
    name, content = "", value.encode("utf-8")
    if cut >= 0:
        name = value[:cut]
        rest = value[cut + 1 :]
        content = read_file(rest) if value[cut] == "@" else rest.encode("utf-8")
    encoded = quote_from_bytes(content, safe="").encode("ascii")
    return (name.encode("utf-8") + b"=" + encoded) if name else encoded
