"""The argument parser class of every ``netwire`` command and subcommand.

argparse hands options a subcommand does not know back to the top-level parser, which then reports
them under ``usage: netwire [-h] [--version] COMMAND``: no help to someone who typed
``netwire get --no-such-flag URL``. Here each subcommand's parser reports its own unknown
arguments, under its own usage line (``usage: netwire get [-h] [-H 'Name: value'] ...``).
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["CommandParser"]


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose subparsers refuse unknown arguments themselves.

    ``top`` marks the ``netwire`` parser itself (argparse reports its unknown arguments as usual);
    the subparsers created under it are of this class too (argparse gives subparsers their
    parent's class), so the check applies at every level (``netwire tcp connect --bad``).
    """

    top = False
    #: Set while a subclass runs an inner parsing pass whose leftovers are not final (the
    #: intermixed parse of the HTTP commands parses twice).
    _inner = False

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        namespace, extras = super().parse_known_args(args, namespace)
        if extras and not self.top and not self._inner:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


_ROLE = None


def plain(text: str | None) -> str | None:
    """A docstring made fit for ``--help``: reST inline markup removed (``` ``x`` ``` and
    ``:role:`x``` become ``x``), so the terminal shows the words, not the markup."""
    global _ROLE
    if text is None:
        return None
    if _ROLE is None:
        import re

        _ROLE = re.compile(r":[a-z]+:`~?([^`]*)`|``([^`]*)``|`([^`]*)`")
    return _ROLE.sub(lambda m: next(g for g in m.groups() if g is not None), text)
