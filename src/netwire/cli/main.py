"""Entry point of the ``netwire`` command.

The subcommands are listed in one static table, :data:`COMMANDS` (name -> module and one-line help).
Only the module of the command being run is imported: ``netwire --help`` lists every command from the
table alone, start-up stays cheap, and nothing depends on listing a directory (which a process that
dropped its privileges may not be allowed to do). Each command module defines
``register(subparsers)``, which adds its parser(s) and sets ``func`` (a callable taking the parsed
args and returning an exit code). A new command is one module plus one row here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .. import __version__
from .parsing import CommandParser

#: name -> (module under ``netwire.cli.commands``, help shown by ``netwire --help``).
#: One module may register several names (``http`` registers every HTTP verb).
COMMANDS: dict[str, tuple[str, str]] = {
    "get": ("http", "send a GET request, curl-like (-H, -d, -F, -o, -L, -v, ...)"),
    "head": ("http", "send a HEAD request, curl-like"),
    "post": ("http", "send a POST request, curl-like"),
    "put": ("http", "send a PUT request, curl-like"),
    "patch": ("http", "send a PATCH request, curl-like"),
    "delete": ("http", "send a DELETE request, curl-like"),
    "request": ("http", "send a request with any METHOD, curl-like"),
    "robots": ("robots", "check a URL against its site's robots.txt (RFC 9309)"),
    "tcp": ("tcp", "netcat-like TCP: listen, connect"),
    "udp": ("udp", "netcat-like UDP: listen, send"),
    "ping": ("ping", "ICMP echo: RTT and loss (IPv4/IPv6)"),
    "sniff": ("sniff", "capture packets, one-line summaries (Linux, root)"),
    "fetch": ("fetch", "bulk-fetch a URL list into WARC files (polite, resumable)"),
    "demo": ("demo", "run netwire against local servers and show what happens"),
}


def _command_in(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line: the top-level parser takes no option with a
    value, so it is the first argument that is not an option."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg
    return None


class _VersionAction(argparse.Action):
    """``--version``: the version and which build runs, e.g. ``netwire 0.1.0 (compiled)``.

    An action of its own so the build is looked up only when asked, not at every parser build.
    """

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS) -> None:
        super().__init__(
            option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0,
            help="show the version and the build (pure Python, or compiled with mypyc) and exit",
        )

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
        values: object, option_string: str | None = None,
    ) -> None:
        import netwire

        print(f"netwire {__version__} ({'compiled' if netwire.__compiled__ else 'pure Python'})")
        parser.exit()


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``netwire`` parser. The command found in ``argv`` gets its full parser; the others are
    listed from :data:`COMMANDS` without importing their modules."""
    parser = CommandParser(
        prog="netwire",
        description="netwire: HTTP client (curl-like), sockets (netcat-like), robots.txt checks and more.",
    )
    parser.top = True
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = _command_in(sys.argv[1:] if argv is None else argv)
    module_name = COMMANDS[chosen][0] if chosen in COMMANDS else None
    if module_name is not None:
        module = importlib.import_module(f"{__package__}.commands.{module_name}")
        module.register(sub)
    for name, (module_of, help_text) in COMMANDS.items():
        if module_of != module_name:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print("netwire: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
