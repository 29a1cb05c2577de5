"""HPACK (RFC 7541) header block decoding for the HTTP/2 client: no I/O, no dependency.

:class:`Decoder` turns the header blocks a server sends into ``(name, value)`` byte pairs:
the static table (Appendix A), the dynamic table with its size accounting and eviction
(section 4), the integer and string representations (section 5), Huffman-coded strings
(Appendix B) and dynamic table size updates (sections 4.2, 6.3). It replaces the ``hpack``
package's decoder under ``h2`` (see :mod:`netwire.http.h2_core`) because it is faster per
header block (bench/bench_h2.py, ``--hpack``): a Huffman string is decoded a byte at a time
through a transition table rather than bit by bit.

Limits against a hostile server (SECURITY.md), each a :class:`HPACKError`:

* the decoded header list (RFC 9113 6.5.2: name + value + 32 per field) is at most
  ``max_header_list_size``; decoding stops as soon as it is exceeded
  (:class:`HeaderListTooLarge`), so a small block referring to a big table entry many times
  (an "HPACK bomb") costs little;
* the dynamic table is at most ``max_table_size`` bytes; a size update above what we allowed
  (SETTINGS_HEADER_TABLE_SIZE) is refused, as is a size update after a field, more than two in a
  row, or a missing one when our allowance shrank below the table's size (RFC 7541 4.2);
* integers are at most 2**32 - 1 and 5 continuation octets; a Huffman string with padding
  longer than 7 bits, padding other than the EOS prefix, or an EOS symbol is refused (5.2).

May import: ``errors`` (a leaf).
"""

from __future__ import annotations

from collections import deque

from ..errors import H2ProtocolError

__all__ = ["STATIC_TABLE", "Decoder", "HPACKError", "HeaderListTooLarge", "huffman_decode"]

_COMPRESSION_ERROR = 0x9

STATIC_TABLE: tuple[tuple[bytes, bytes], ...] = (
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
)
"""RFC 7541 Appendix A: index 1 is ``STATIC_TABLE[0]``."""

_STATIC_COUNT = len(STATIC_TABLE)  # 61
_ENTRY_OVERHEAD = 32  # RFC 7541 4.1: an entry's size is name + value + 32
_MAX_INT = 2**32 - 1
_MAX_INT_OCTETS = 5  # continuation octets after the prefix: enough for 2**32 - 1


class HPACKError(H2ProtocolError):
    """A header block that is not valid HPACK, or beyond one of the decoder's limits."""

    def __init__(self, message: str) -> None:
        super().__init__(message, error_code=_COMPRESSION_ERROR)


class HeaderListTooLarge(HPACKError):
    """The decoded header list is larger than ``max_header_list_size``."""


# -- Huffman (RFC 7541 Appendix B) ----------------------------------------------------------------

# The code length of each symbol 0..256 (256 is EOS), one letter each: A = 5 bits ... Z = 30 bits.
# The code is canonical (codes given in order of length, then of symbol), so the lengths define it.
_LENGTHS = (
    "ISXXXXXXXTZXXZXXXXXXXXZXXXXXXXXXBFFHIBDGFFDGDBBBAAABBBBBBBCDKBHF"
    "IBCCCCCCCCCCCCCCCCCCCCCCDCDIOIJBKABABABBBACCBBBABCBAABCCCCCKGJIX"
    "PRPPRRRSRSSSSSTSTTRSTSSSSQRSRSSTRQPRRSSQSRRTQRSSQQRQSRSSPRRRSRRS"
    "VVPORSRUVVVWWVTUOQVWWVWTQQVVXWWWPTPQRQQSRRUUTTVSVWVVWWWWWXWWWWWV"
    "Z"
)
_EOS = 256


def huffman_codes() -> list[tuple[int, int]]:
    """``(code, bit length)`` of each symbol 0..256, built from the canonical lengths."""
    lengths = [ord(c) - ord("A") + 5 for c in _LENGTHS]
    codes = [(0, 0)] * 257
    code = -1
    previous = 0
    for symbol in sorted(range(257), key=lambda s: (lengths[s], s)):
        size = lengths[symbol]
        code = (code + 1) << (size - previous)
        previous = size
        codes[symbol] = (code, size)
    return codes


class _Huffman:
    """The decoding automaton: states are the internal nodes of the code tree (0 is the root).

    A 4-bit table (every state x every nibble: the next state and the symbols completed) is
    built at first use (a few ms); a state's byte-wide row (256 transitions: two nibble steps
    composed) is built the first time that state is met, so decoding costs one tuple look-up
    per input byte.
    """

    def __init__(self) -> None:
        # children[node] = [child for bit 0, child for bit 1]: >= 0 an internal node, < 0 a leaf
        # (symbol = -child - 1).
        children: list[list[int]] = [[0, 0]]
        filled: list[list[bool]] = [[False, False]]
        depth = [0]
        ones = [True]  # reached from the root by 1-bits only (a valid EOS-prefix padding)
        for symbol, (code, size) in enumerate(huffman_codes()):
            node = 0
            for shift in range(size - 1, 0, -1):
                bit = (code >> shift) & 1
                if not filled[node][bit]:
                    children.append([0, 0])
                    filled.append([False, False])
                    depth.append(depth[node] + 1)
                    ones.append(ones[node] and bit == 1)
                    children[node][bit] = len(children) - 1
                    filled[node][bit] = True
                node = children[node][bit]
            bit = code & 1
            children[node][bit] = -symbol - 1
            filled[node][bit] = True
        # Padding may end a string in the root or in a node reached by at most 7 one-bits.
        self.accepting = [node == 0 or (ones[node] and depth[node] <= 7) for node in range(len(children))]
        # nibbles[state * 16 + nibble] = (next state, symbols completed) or None if EOS is met.
        nibbles: list[tuple[int, bytes] | None] = []
        for state in range(len(children)):
            for nibble in range(16):
                node = state
                out = bytearray()
                bad = False
                for shift in (3, 2, 1, 0):
                    child = children[node][(nibble >> shift) & 1]
                    if child >= 0:
                        node = child
                        continue
                    symbol = -child - 1
                    if symbol == _EOS:
                        bad = True
                        break
                    out.append(symbol)
                    node = 0
                nibbles.append(None if bad else (node, bytes(out)))
        self.nibbles = nibbles
        self.rows: list[list[tuple[int, bytes] | None] | None] = [None] * len(children)

    def row(self, state: int) -> list[tuple[int, bytes] | None]:
        nibbles = self.nibbles
        row: list[tuple[int, bytes] | None] = []
        for byte in range(256):
            first = nibbles[state * 16 + (byte >> 4)]
            second = None if first is None else nibbles[first[0] * 16 + (byte & 15)]
            if first is None or second is None:
                row.append(None)
            else:
                row.append((second[0], first[1] + second[1] if first[1] else second[1]))
        self.rows[state] = row
        return row

    def decode(self, data: bytes | memoryview) -> bytes:
        rows = self.rows
        state = 0
        out: list[bytes] = []
        add = out.append
        for byte in data:
            row = rows[state] or self.row(state)
            step = row[byte]
            if step is None:
                raise HPACKError("a Huffman-coded string holds the EOS symbol")
            state, emitted = step
            if emitted:
                add(emitted)
        if not self.accepting[state]:
            raise HPACKError("a Huffman-coded string ends in invalid padding")
        return b"".join(out)


_huffman: _Huffman | None = None


def huffman_decode(data: bytes | memoryview) -> bytes:
    """Decode a Huffman-coded HPACK string (RFC 7541 5.2); HPACKError if invalid."""
    global _huffman
    if _huffman is None:
        _huffman = _Huffman()
    return _huffman.decode(data)


# -- the decoder -----------------------------------------------------------------------------------


class Decoder:
    """One connection's HPACK decoding context (its dynamic table lives across header blocks).

    ``max_allowed_table_size`` is the SETTINGS_HEADER_TABLE_SIZE we advertised (the largest
    table the server may ask us to keep); ``max_table_size`` is the table's current maximum,
    4,096 until the server signals a change. Lowering ``max_allowed_table_size`` below it (our
    SETTINGS acknowledged) obliges the server to begin its next header block with a size update.
    """

    def __init__(
        self, max_header_list_size: int = 64 * 1024, max_allowed_table_size: int = 4096, max_table_size: int = 4096
    ) -> None:
        self.max_header_list_size = max_header_list_size
        self._allowed = max_allowed_table_size
        self.max_table_size = max_table_size
        self.table: deque[tuple[bytes, bytes]] = deque()  # newest first: index 62 is table[0]
        self.table_size = 0
        self._update_required = False

    @property
    def max_allowed_table_size(self) -> int:
        return self._allowed

    @max_allowed_table_size.setter
    def max_allowed_table_size(self, size: int) -> None:
        self._allowed = size
        if size < self.max_table_size:
            self._update_required = True  # RFC 7541 4.2: the next block starts with an update

    def _add(self, name: bytes, value: bytes) -> None:
        size = len(name) + len(value) + _ENTRY_OVERHEAD
        table = self.table
        if size > self.max_table_size:
            table.clear()  # RFC 7541 4.4: an entry larger than the table empties it
            self.table_size = 0
            return
        self.table_size += size
        table.appendleft((name, value))
        self._evict()

    def _evict(self) -> None:
        table = self.table
        limit = self.max_table_size
        while self.table_size > limit:
            name, value = table.pop()
            self.table_size -= len(name) + len(value) + _ENTRY_OVERHEAD

    def _entry(self, index: int) -> tuple[bytes, bytes]:
        if 0 < index <= _STATIC_COUNT:
            return STATIC_TABLE[index - 1]
        at = index - _STATIC_COUNT - 1
        if index <= 0 or at >= len(self.table):
            raise HPACKError(f"header block refers to table index {index}, beyond the table")
        return self.table[at]

    def decode(self, data: bytes | bytearray | memoryview) -> list[tuple[bytes, bytes]]:
        """The header list of one complete header block; HPACKError if invalid or too large."""
        data = bytes(data)
        end = len(data)
        pos = 0
        headers: list[tuple[bytes, bytes]] = []
        total = 0
        limit = self.max_header_list_size
        updates = 0
        if self._update_required and (not end or data[0] & 0xE0 != 0x20):
            raise HPACKError(
                "header block does not start with the dynamic table size update our smaller "
                f"SETTINGS_HEADER_TABLE_SIZE ({self._allowed}) calls for"
            )
        while pos < end:
            byte = data[pos]
            if byte & 0x80:  # indexed field (6.1)
                index, pos = _integer(data, pos, 7)
                name, value = self._entry(index)
            elif byte & 0x40:  # literal with incremental indexing (6.2.1)
                index, pos = _integer(data, pos, 6)
                if index:
                    name = self._entry(index)[0]
                else:
                    name, pos = _string(data, pos)
                value, pos = _string(data, pos)
                self._add(name, value)
            elif byte & 0x20:  # dynamic table size update (6.3)
                if headers:
                    raise HPACKError("dynamic table size update after a header field")
                updates += 1
                if updates > 2:
                    raise HPACKError("more than two dynamic table size updates in a row")
                size, pos = _integer(data, pos, 5)
                if size > self._allowed:
                    raise HPACKError(
                        f"dynamic table size update to {size} above the {self._allowed} we allowed"
                    )
                self.max_table_size = size
                self._update_required = False
                self._evict()
                continue
            else:  # literal without indexing (6.2.2) or never indexed (6.2.3)
                index, pos = _integer(data, pos, 4)
                if index:
                    name = self._entry(index)[0]
                else:
                    name, pos = _string(data, pos)
                value, pos = _string(data, pos)
            total += len(name) + len(value) + _ENTRY_OVERHEAD
            if total > limit:
                raise HeaderListTooLarge(f"header list larger than max_header_list_size ({limit} bytes)")
            headers.append((name, value))
        self._update_required = False
        return headers


def _integer(data: bytes, pos: int, prefix: int) -> tuple[int, int]:
    """An integer with a ``prefix``-bit prefix at ``data[pos]`` (RFC 7541 5.1); (value, next pos)."""
    mask = (1 << prefix) - 1
    value = data[pos] & mask
    pos += 1
    if value < mask:
        return value, pos
    shift = 0
    end = len(data)
    for _ in range(_MAX_INT_OCTETS):
        if pos >= end:
            raise HPACKError("header block ends inside an integer")
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        if not byte & 0x80:
            if value > _MAX_INT:
                raise HPACKError(f"integer {value} in a header block is too large")
            return value, pos
        shift += 7
    raise HPACKError(f"integer in a header block longer than {_MAX_INT_OCTETS} continuation octets")


def _string(data: bytes, pos: int) -> tuple[bytes, int]:
    """A string literal at ``data[pos]`` (RFC 7541 5.2); (bytes, next pos)."""
    if pos >= len(data):
        raise HPACKError("header block ends before a string literal")
    huffman = data[pos] & 0x80
    size, pos = _integer(data, pos, 7)
    end = pos + size
    if end > len(data):
        raise HPACKError("string literal longer than the rest of the header block")
    if huffman:
        return huffman_decode(memoryview(data)[pos:end]), end
    return data[pos:end], end
