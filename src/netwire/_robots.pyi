"""Type-checker view of the old path ``netwire._robots``: it is :mod:`netwire.robots._rules` (see netwire/_moved.py)."""

from netwire.robots._rules import *  # noqa: F403
