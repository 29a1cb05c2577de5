"""Feed one response to ``ResponseParser`` in many splits and compare what comes out.

Every table case goes through ``parse_every_way``: whole, byte by byte, and a handful of seeded
random splits. The events are normalised (consecutive ``Data`` joined, since where a body is cut
depends on the split) so that all splits must agree exactly; an error must be a ProtocolError in
every split, with the same message.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from netwire.errors import ProtocolError
from netwire.http.http11 import (
    DEFAULT_LIMITS,
    Data,
    EndOfMessage,
    Event,
    Informational,
    ParserLimits,
    ResponseHead,
    ResponseParser,
)

Headers = list[tuple[str, str]]


@dataclass
class Outcome:
    """What the parser made of one response, independent of how it was split."""

    informational: list[tuple[int, str, Headers]] = field(default_factory=list)
    head: ResponseHead | None = None
    body: bytes = b""
    ended: bool = False
    trailers: Headers = field(default_factory=list)
    trailing_data: bytes = b""
    keep_alive: bool = False
    # The sequence of event kinds with Data runs collapsed: checks the order of events.
    kinds: list[str] = field(default_factory=list)


def _record(out: Outcome, events: Sequence[Event]) -> None:
    for ev in events:
        if isinstance(ev, Informational):
            assert out.head is None, "an Informational event after the final head"
            out.informational.append((ev.status, ev.reason, ev.headers))
            out.kinds.append("info")
        elif isinstance(ev, ResponseHead):
            assert out.head is None, "two ResponseHead events"
            out.head = ev
            out.kinds.append("head")
        elif isinstance(ev, Data):
            assert out.head is not None and not out.ended, "Data outside a body"
            assert isinstance(ev.data, bytes)
            # An empty Data event is legal but pointless; the engine should not emit them.
            assert ev.data, "empty Data event"
            out.body += ev.data
            if out.kinds[-1:] != ["data"]:
                out.kinds.append("data")
        elif isinstance(ev, EndOfMessage):
            assert out.head is not None and not out.ended, "EndOfMessage twice or before the head"
            out.ended = True
            out.trailers = ev.trailers
            out.kinds.append("end")
        else:  # pragma: no cover - the parser emits nothing else
            raise AssertionError(f"unknown event {ev!r}")


def parse_pieces(
    pieces: Sequence[bytes],
    *,
    method: str = "GET",
    limits: ParserLimits = DEFAULT_LIMITS,
    eof: bool = False,
) -> Outcome:
    """Feed ``pieces`` one after the other (then EOF if asked) and collect the outcome."""
    parser = ResponseParser(method, limits)
    out = Outcome()
    for piece in pieces:
        _record(out, parser.feed(piece))
    if eof:
        _record(out, parser.feed_eof())
    out.trailing_data = parser.trailing_data
    out.keep_alive = parser.keep_alive
    if out.ended:
        assert parser.done
    return out


def splits(data: bytes, *, seed: int = 0, randoms: int = 6) -> Iterator[tuple[str, list[bytes]]]:
    """Named ways of cutting ``data``: whole, byte by byte, and ``randoms`` seeded random splits."""
    yield "whole", [data]
    yield "bytewise", [data[i : i + 1] for i in range(len(data))]
    rng = random.Random(f"{seed}:{len(data)}:{data[:64]!r}")
    for r in range(randoms):
        if len(data) < 2:
            break
        cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 8))))
        bounds = [0, *cuts, len(data)]
        yield f"random{r}", [data[a:b] for a, b in itertools.pairwise(bounds)]


def _comparable(out: Outcome) -> tuple[object, ...]:
    head = out.head
    head_t = (
        None if head is None else (head.status, head.reason, head.http_version, head.headers, head.keep_alive)
    )
    return (
        out.informational,
        head_t,
        out.body,
        out.ended,
        out.trailers,
        out.trailing_data,
        out.keep_alive,
        out.kinds,
    )


def parse_every_way(
    data: bytes,
    *,
    method: str = "GET",
    limits: ParserLimits = DEFAULT_LIMITS,
    eof: bool = False,
) -> Outcome:
    """Parse ``data`` in every split; all must agree. Returns the outcome or raises the ProtocolError."""
    results: dict[str, Outcome | ProtocolError] = {}
    for name, pieces in splits(data):
        try:
            results[name] = parse_pieces(pieces, method=method, limits=limits, eof=eof)
        except ProtocolError as exc:
            results[name] = exc
    first = results["whole"]
    for name, res in results.items():
        if isinstance(first, ProtocolError):
            assert isinstance(res, ProtocolError), f"whole raised {first!r}, {name} gave {res!r}"
            assert type(res) is type(first), f"whole: {first!r}, {name}: {res!r}"
        else:
            assert isinstance(res, Outcome), f"whole parsed, {name} raised {res!r}"
            assert _comparable(res) == _comparable(first), f"{name} differs from whole"
    if isinstance(first, ProtocolError):
        raise first
    return first


def refused(
    data: bytes,
    needle: str,
    *,
    method: str = "GET",
    limits: ParserLimits = DEFAULT_LIMITS,
    eof: bool = False,
    kind: type[ProtocolError] = ProtocolError,
) -> list[ProtocolError]:
    """Assert that every split of ``data`` raises ``kind`` with a message matching ``needle``."""
    errors = []
    for name, pieces in splits(data):
        try:
            out = parse_pieces(pieces, method=method, limits=limits, eof=eof)
        except ProtocolError as exc:
            assert isinstance(exc, kind), f"{name}: {exc!r} is not a {kind.__name__}"
            assert re.search(needle, str(exc)), f"{name}: {str(exc)!r} does not match {needle!r}"
            errors.append(exc)
        else:
            raise AssertionError(f"{name}: parsed without error: {out!r}")
    return errors
