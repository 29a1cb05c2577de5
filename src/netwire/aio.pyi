"""Type-checker view of the old path ``netwire.aio``: it is :mod:`netwire.http.aio` (see netwire/_moved.py)."""

from netwire.http.aio import *  # noqa: F403
