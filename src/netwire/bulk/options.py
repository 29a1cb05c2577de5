"""The settings of a bulk fetch, with their defaults (each one also a ``netwire fetch`` option)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from .warc import DEFAULT_MAX_WARC_SIZE, GZIP_LEVEL

__all__ = ["DEFAULT_USER_AGENT", "BulkOptions", "parse_rate"]

#: Identifies the crawler; the docs ask people to put their own contact URL in ``user_agent``.
DEFAULT_USER_AGENT = f"netwire-fetch/{__version__} (+https://github.com/netwire-dev/netwire)"


def parse_rate(text: str | float | None) -> float | None:
    """Requests per second from ``"2/s"``, ``"30/m"``, ``"1/h"`` or a plain number; None stays None."""
    if text is None:
        return None
    if isinstance(text, int | float):
        value = float(text)
    else:
        raw = text.strip().lower()
        count, _, unit = raw.partition("/")
        per = {"": 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}.get(unit.strip())
        if per is None:
            raise ValueError(f"bad rate {text!r}: use N/s, N/m or N/h")
        try:
            value = float(count) / per
        except ValueError:
            raise ValueError(f"bad rate {text!r}: use N/s, N/m or N/h") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"bad rate {text!r}: must be a positive number")
    return value


@dataclass
class BulkOptions:
    """How politely and how far to fetch. Every limit has a default (see SECURITY.md)."""

    user_agent: str = DEFAULT_USER_AGENT
    """Sent with every request, and the agent robots.txt rules are matched for."""
    respect_robots: bool = True
    per_host: int = 2
    """Requests in flight to one host (host:port) at a time."""
    per_host_rate: float | None = None
    """At most this many request starts per second to one host (None: no rate limit)."""
    concurrency: int = 64
    """Requests in flight in one worker process."""
    retries: int = 3
    """Retries of a URL after a connect error, a read error, 429 or 5xx (502, 503, 504)."""
    backoff: float = 0.5
    """The first backoff wait in seconds (doubling each time) when no Retry-After says otherwise."""
    max_retry_after: float = 300.0
    """A longer Retry-After is not waited for: the response is recorded as it is."""
    max_body_size: int = 50 * 1024 * 1024
    """Bytes of one body kept; the rest is not read, and the record says WARC-Truncated: length."""
    timeout: float = 30.0
    """Seconds for connecting, and between two reads."""
    max_time: float = 300.0
    """Seconds one request may take in all (its robots.txt check included): a server trickling
    its answer a byte at a time cannot hold a slot longer."""
    max_redirects: int = 10
    warc_max_size: int = DEFAULT_MAX_WARC_SIZE
    """A WARC file is rotated once it holds this many bytes."""
    gzip_level: int = GZIP_LEVEL
    """zlib level (1-9) of the WARC records worth compressing; 0 stores every record
    uncompressed in its gzip member. 1 (the default) is the cheap one: see
    :data:`~netwire.bulk.warc.GZIP_LEVEL` for the sizes and costs."""
    checkpoint_interval: float = 1.0
    """Seconds between checkpoints (fsync of WARC then index): what a crash can cost."""
    output_format: str = "warc"
    """"warc" (WARC/1.1 files) or "files" (one file per body, named by its SHA-256)."""
    staging_dir: str | None = None
    """With an output URL (fsspec): the local folder under which shards are written before they
    are sent (default: ``$TMPDIR/netwire-fetch-staging``)."""
    lookahead: int = 10_000
    """Input records held waiting for their host, per worker (bounds memory)."""
    client_options: dict[str, Any] = field(default_factory=dict)
    """Extra :class:`~netwire.aio.AsyncClient` options (``verify``, ``proxy``...)."""

    def check(self) -> None:
        """:raises ValueError: a setting out of range."""
        for name in ("per_host", "concurrency", "max_body_size", "warc_max_size", "lookahead"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("retries", "backoff", "max_retry_after", "max_redirects", "checkpoint_interval"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if not self.timeout > 0 or not self.max_time > 0:
            raise ValueError("timeout and max_time must be positive")
        if self.output_format not in ("warc", "files"):
            raise ValueError(f"output_format must be 'warc' or 'files', not {self.output_format!r}")
        if not isinstance(self.gzip_level, int) or not 0 <= self.gzip_level <= 9:
            raise ValueError(f"gzip_level must be 0 (stored) to 9, not {self.gzip_level!r}")
        if self.per_host_rate is not None and not self.per_host_rate > 0:
            raise ValueError("per_host_rate must be positive")
