"""Entry point of the ``netwire`` command.

Subcommands live in ``netwire.cli.commands``, one module each, so that adding a command never
touches this file: every module there defines ``register(subparsers)`` which adds its parser and
sets ``func`` (a callable taking the parsed args and returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from .. import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netwire",
        description="netwire: HTTP client (curl-like), sockets (netcat-like), robots.txt checks and more.",
    )
    parser.add_argument("--version", action="version", version=f"netwire {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from . import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
