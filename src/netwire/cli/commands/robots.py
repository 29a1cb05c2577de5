"""``netwire robots URL [--agent NAME]``: may this agent fetch this URL, and which rule decided?
``netwire robots --sitemaps URL``: the URLs the site's sitemaps list, one a line.

Fetches the origin's robots.txt (RFC 9309: up to 5 redirects, only the first 500 KiB; a 4xx
allows everything, a 5xx or a network failure disallows everything), or reads ``--file``.

Exit status: 0 allowed, 1 disallowed, 2 usage error (a bad URL, an unreadable --file), 22 robots.txt answered 5xx
(everything disallowed), and curl's codes when it could not be fetched at all (6 DNS, 7 connect,
28 timeout, 35 TLS, else 3; everything disallowed).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..color import visible
from ..output import EXIT_HTTP_ERROR, EXIT_USAGE, exit_code
from ..parsing import plain

EXIT_ALLOWED = 0
EXIT_DISALLOWED = 1
EXIT_UNREACHABLE = 3  # robots.txt could not be fetched, for a reason without a code of its own
DEFAULT_AGENT = "netwire"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "robots",
        help="check a URL against its site's robots.txt (RFC 9309)",
        description=plain(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("url", help="the URL a crawler wants to fetch")
    p.add_argument("-A", "--agent", default=DEFAULT_AGENT,
                   help=f"the crawler's name or User-Agent (product token used); default {DEFAULT_AGENT!r}")
    p.add_argument("--file", metavar="PATH", help="use this robots.txt file instead of fetching one")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds for the robots.txt fetch; default 10")
    p.add_argument("--google", action="store_true",
                   help="match as Google's parser does (URLs taken as already percent-encoded)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also print sitemaps and the crawl-delay (with --sitemaps: each URL's lastmod and sitemap)")
    p.add_argument("--sitemaps", action="store_true",
                   help="list the URLs the site's sitemaps name (robots.txt's Sitemap: lines, else /sitemap.xml; "
                   "indexes followed), one a line; URL may also be a sitemap")
    p.set_defaults(func=run)


def list_sitemaps(args: argparse.Namespace) -> int:
    """Print every URL the sitemaps list; failed documents are reported on stderr."""
    from ... import Client
    from ...errors import NetwireError
    from ...robots.sitemaps import sitemaps

    errors: list[tuple[str, NetwireError]] = []
    count = 0
    out = sys.stdout
    try:
        with Client(timeout=args.timeout, user_agent=args.agent) as client:
            for entry in sitemaps(args.url, client=client, errors=errors):
                count += 1
                if args.verbose:
                    out.write(f"{visible(entry.loc)}\t{visible(entry.lastmod or '-')}\t{visible(entry.sitemap)}\n")
                else:
                    out.write(visible(entry.loc) + "\n")
    except NetwireError as exc:  # an invalid URL: nothing was fetched
        print(f"netwire: {visible(str(exc))}", file=sys.stderr)
        return exit_code(exc)
    out.flush()
    for url, failure in errors:
        print(f"netwire: sitemap {visible(url)}: {visible(str(failure))}", file=sys.stderr)
    if args.verbose or errors:
        print(f"netwire: {count} URLs, {len(errors)} sitemap(s) failed", file=sys.stderr)
    return exit_code(errors[0][1]) if errors else 0


def run(args: argparse.Namespace) -> int:
    if args.sitemaps:
        return list_sitemaps(args)
    from ...errors import InvalidURL
    from ...robotparser import RobotFileParser, product_token, robots_url

    out = sys.stdout
    parser = RobotFileParser(timeout=args.timeout, user_agent=args.agent, mode="google" if args.google else "rfc9309")
    if args.file:
        try:
            with open(args.file, "rb") as f:
                data = f.read()
        except OSError as exc:
            print(f"netwire: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
        parser.parse(data.splitlines())
        print(f"robots.txt: {args.file} ({len(data)} bytes)", file=out)
    else:
        try:
            parser.set_url(robots_url(args.url))
        except InvalidURL as exc:
            print(f"netwire: {exc}", file=sys.stderr)
            return EXIT_USAGE
        parser.read()
        fetched = parser.fetched
        assert fetched is not None
        size = f", {len(fetched.body)} bytes" if fetched.status is not None else ""
        print(f"robots.txt: {parser.url} ({visible(fetched.describe())}{size})", file=out)
        if fetched.final_url and fetched.final_url != parser.url:
            print(f"  served from: {fetched.final_url}", file=out)

    token = product_token(args.agent)
    print(f"agent: {args.agent}" + (f" (product token {token!r})" if token != args.agent else ""), file=out)
    decision = parser.decide(args.agent, args.url)
    verdict = "allowed" if decision.allowed else "DISALLOWED"
    print(f"{verdict}: {args.url}", file=out)
    if decision.rule is not None:
        print(f"  by rule: {decision.rule!r} (line {decision.line})", file=out)
    else:
        print(f"  because: {visible(decision.reason)}", file=out)
    if args.verbose and parser.robots is not None:
        delay = parser.crawl_delay(args.agent)
        rate = parser.request_rate(args.agent)
        if delay is not None:
            print(f"crawl-delay: {delay} s", file=out)
        if rate is not None:
            print(f"request-rate: {rate.requests}/{rate.seconds} s", file=out)
        for sitemap in parser.site_maps() or ():
            print(f"sitemap: {visible(sitemap)}", file=out)  # the site's text: shown, not acted on

    fetched = parser.fetched
    if fetched is not None and fetched.verdict == "disallow-all":
        if fetched.exception is None:
            return EXIT_HTTP_ERROR
        code = exit_code(fetched.exception)
        return EXIT_UNREACHABLE if code in (EXIT_ALLOWED, EXIT_DISALLOWED) else code
    return EXIT_ALLOWED if decision.allowed else EXIT_DISALLOWED
