"""``netwire fetch URLS -o OUT/``: fetch a list of URLs into WARC files and an index, politely
(robots.txt, per-host limits, Retry-After) and resumably (run the same command again after any
stop, even SIGKILL: it goes on where it stopped).

URLS is a text file (one URL a line, # comments), a CSV or JSON Lines file (--url-column), any of
them gzip-compressed, or - for stdin. Exit status: 0 when the run completed (failed URLs are
listed in the index, not fatal), 2 for bad options, unreadable input or an output folder written
with other settings, 1 when a worker failed (run again to resume).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..output import EXIT_OTHER, EXIT_USAGE
from ..parsing import plain

_SIZES = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def _size(text: str) -> int:
    """Bytes from ``"50M"``, ``"200k"``, ``"1G"`` or a plain number."""
    raw = text.strip().lower().removesuffix("b").removesuffix("i")
    unit = raw[-1:] if raw[-1:] in _SIZES else ""
    try:
        value = int(float(raw[: len(raw) - len(unit)]) * _SIZES[unit])
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use 50M, 200k, 1G or bytes)") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"size must be positive: {text!r}")
    return value


def _rate(text: str) -> float:
    from ...bulk.options import parse_rate

    try:
        value = parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    assert value is not None
    return value


def register(sub: Any) -> None:
    from ...bulk.options import DEFAULT_USER_AGENT, BulkOptions

    d = BulkOptions()
    p = sub.add_parser(
        "fetch",
        help="bulk-fetch a URL list into WARC files (polite, resumable)",
        description=plain(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("urls", metavar="URLS", help="file of URLs (text, .csv, .jsonl, .gz) or - for stdin")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder (resumed when it exists)")
    p.add_argument("--url-column", metavar="NAME", help="CSV column / JSON field with the URL (default: url)")
    p.add_argument("--input-format", choices=("text", "csv", "jsonl"), help="default: from the file name")
    p.add_argument("--format", choices=("warc", "files"), default="warc", dest="output_format",
                   help="WARC/1.1 files (default) or one file per body under OUT/files/")
    p.add_argument("-w", "--workers", type=int, default=None,
                   help="processes, URLs sharded by site (default: the number of CPUs)")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local worker processes (default), or one Ray task per shard (pip install 'netwire[ray]')")
    p.add_argument("--ray-address", metavar="ADDR",
                   help="the Ray cluster to join (default: the one ray.init() finds, or a new local one)")
    p.add_argument("-A", "--user-agent", default=DEFAULT_USER_AGENT,
                   help="identify your crawler, with a contact URL (default: %(default)r)")
    p.add_argument("--per-host", type=int, default=d.per_host, help="requests in flight per host (default %(default)s)")
    p.add_argument("--per-host-rate", type=_rate, metavar="RATE",
                   help="request starts per host: 2/s, 30/m, 1/h (default: no limit)")
    p.add_argument("-c", "--concurrency", type=int, default=d.concurrency,
                   help="requests in flight per worker (default %(default)s)")
    p.add_argument("--retries", type=int, default=d.retries, help="retries after errors, 429 and 5xx (default %(default)s)")
    p.add_argument("--timeout", type=float, default=d.timeout, help="connect and read timeout, seconds (default %(default)s)")
    p.add_argument("--max-time", type=float, default=d.max_time, metavar="SECONDS",
                   help="the longest one request may take in all (default %(default)s)")
    p.add_argument("--max-body-size", type=_size, default=d.max_body_size, metavar="SIZE",
                   help="bytes kept of one body, the rest cut (WARC-Truncated) (default 50M)")
    p.add_argument("--warc-size", type=_size, default=d.warc_max_size, metavar="SIZE",
                   help="rotate WARC files at this size (default 1G)")
    p.add_argument("--gzip-level", type=int, choices=range(10), default=d.gzip_level, metavar="0-9",
                   help="zlib level of WARC records that compress; 0 stores them (default %(default)s: "
                   "level 6 costs twice the CPU for files about 12%% smaller)")
    p.add_argument("--checkpoint-interval", type=float, default=d.checkpoint_interval, metavar="SECONDS",
                   help="seconds between checkpoints (WARC then index fsynced): what a crash can cost (default %(default)s)")
    p.add_argument("--stats-json", metavar="FILE", help="write the summary as JSON to FILE")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress line, no summary table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ...bulk import BulkError, bulk

    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    try:
        summary = bulk(
            args.urls, args.output, workers=workers, engine=args.engine, ray_address=args.ray_address, url_column=args.url_column, input_format=args.input_format,
            progress=not args.quiet, stats_json=args.stats_json, output_format=args.output_format,
            user_agent=args.user_agent, per_host=args.per_host, per_host_rate=args.per_host_rate,
            concurrency=args.concurrency, retries=args.retries, timeout=args.timeout, max_time=args.max_time,
            max_body_size=args.max_body_size, warc_max_size=args.warc_size, gzip_level=args.gzip_level,
            checkpoint_interval=args.checkpoint_interval,
        )
    except BulkError as exc:
        print(f"netwire: {exc}", file=sys.stderr)
        return EXIT_OTHER if "worker failed" in str(exc) else EXIT_USAGE
    except (ValueError, ImportError) as exc:
        print(f"netwire: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.quiet:
        print(summary.table())
    return 0
