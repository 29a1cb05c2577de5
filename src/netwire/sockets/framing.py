"""Sans-IO message framing shared by the blocking :class:`~netwire.sockets.stream.Stream`, the
selector server and the asyncio twins.

A :class:`ReceiveBuffer` holds bytes received but not yet consumed; its ``take_*`` methods return a
complete unit (``None`` when more bytes are needed) or raise
:class:`~netwire.errors.ProtocolError` when a limit is exceeded. They never touch a socket, so the
same framing rules hold whatever does the I/O.

Two message framings are provided:

* **line-delimited**: a message ends with a delimiter (``b"\\n"`` by default); the delimiter is
  part of what :meth:`ReceiveBuffer.take_until` returns and is stripped by :meth:`take_line`.
* **length-prefixed**: a 4-byte big-endian unsigned length, then that many bytes
  (:func:`encode_frame`, :meth:`ReceiveBuffer.take_frame`).
"""

from __future__ import annotations

import struct

from ..errors import ProtocolError

__all__ = [
    "DEFAULT_MAX_FRAME",
    "DEFAULT_MAX_LINE",
    "DEFAULT_MESSAGE_TIMEOUT",
    "FRAME_HEADER",
    "ReceiveBuffer",
    "encode_frame",
    "encode_line",
]

#: Longest line (delimiter included) accepted unless a caller says otherwise.
DEFAULT_MAX_LINE = 64 * 1024
#: Largest length-prefixed payload accepted unless a caller says otherwise.
DEFAULT_MAX_FRAME = 16 * 1024 * 1024
#: Seconds a server gives one line or frame from its first byte to its last (slowloris defence).
DEFAULT_MESSAGE_TIMEOUT = 30.0
#: The length prefix: 4 bytes, network byte order, unsigned.
FRAME_HEADER = struct.Struct("!I")


def encode_line(data: bytes, delimiter: bytes = b"\n") -> bytes:
    """``data`` followed by ``delimiter``; refuses data that already contains the delimiter."""
    if delimiter in data:
        raise ValueError(f"a line message must not contain its delimiter {delimiter!r}")
    return data + delimiter


def encode_frame(data: bytes) -> bytes:
    """``data`` with its 4-byte big-endian length in front."""
    if len(data) > 0xFFFFFFFF:
        raise ValueError("frame longer than 2**32-1 bytes")
    return FRAME_HEADER.pack(len(data)) + data


class ReceiveBuffer:
    """Bytes received and not consumed yet, with framing-aware extraction."""

    __slots__ = ("_buf", "_scan")

    def __init__(self) -> None:
        self._buf = bytearray()
        # Where the delimiter search resumes: bytes before it are known not to hold one, so a
        # line arriving in many small pieces is scanned once, not once per piece.
        self._scan = 0

    def __len__(self) -> int:
        return len(self._buf)

    def __bool__(self) -> bool:
        return bool(self._buf)

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        self._buf += data

    def take(self, n: int) -> bytes:
        """Up to ``n`` buffered bytes (fewer, or ``b""``, when fewer are buffered)."""
        out = bytes(self._buf[:n])
        del self._buf[:n]
        self._scan = 0
        return out

    def take_all(self) -> bytes:
        """Everything buffered."""
        out = bytes(self._buf)
        self._buf.clear()
        self._scan = 0
        return out

    def take_exactly(self, n: int) -> bytes | None:
        """Exactly ``n`` bytes, or ``None`` while fewer are buffered."""
        if len(self._buf) < n:
            return None
        return self.take(n)

    def take_until(self, delimiter: bytes, max_size: int) -> bytes | None:
        """Bytes up to and including ``delimiter``, or ``None`` while it has not arrived.

        Raises :class:`~netwire.errors.ProtocolError` when ``max_size`` bytes (delimiter included)
        are buffered without a delimiter, or when the delimiter is found beyond ``max_size``.
        """
        if not delimiter:
            raise ValueError("empty delimiter")
        buf = self._buf
        start = max(0, self._scan - len(delimiter) + 1)
        idx = buf.find(delimiter, start)
        if idx < 0:
            if len(buf) >= max_size:
                raise ProtocolError(
                    f"no {delimiter!r} within {max_size} bytes (message too long)"
                )
            self._scan = len(buf)
            return None
        end = idx + len(delimiter)
        if end > max_size:
            raise ProtocolError(f"message of {end} bytes exceeds the limit of {max_size}")
        out = bytes(buf[:end])
        del buf[:end]
        self._scan = 0
        return out

    def take_line(self, max_size: int = DEFAULT_MAX_LINE, delimiter: bytes = b"\n") -> bytes | None:
        """A line without its delimiter (``\\r\\n`` is stripped too when the delimiter is ``\\n``)."""
        line = self.take_until(delimiter, max_size)
        if line is None:
            return None
        line = line[: -len(delimiter)]
        if delimiter == b"\n" and line.endswith(b"\r"):
            line = line[:-1]
        return line

    def frame_size(self, max_size: int = DEFAULT_MAX_FRAME) -> int | None:
        """The announced payload size of the next frame, or ``None`` until its header arrived."""
        if len(self._buf) < FRAME_HEADER.size:
            return None
        (size,) = FRAME_HEADER.unpack_from(self._buf)
        if size > max_size:
            raise ProtocolError(f"frame of {size} bytes exceeds the limit of {max_size}")
        return int(size)

    def take_frame(self, max_size: int = DEFAULT_MAX_FRAME) -> bytes | None:
        """The payload of one length-prefixed frame, or ``None`` while it is incomplete."""
        size = self.frame_size(max_size)
        if size is None or len(self._buf) < FRAME_HEADER.size + size:
            return None
        out = bytes(self._buf[FRAME_HEADER.size : FRAME_HEADER.size + size])
        del self._buf[: FRAME_HEADER.size + size]
        self._scan = 0
        return out
