"""Type-checker view of the old path ``netwire.socks``: it is :mod:`netwire.http.socks` (see netwire/_moved.py)."""

from netwire.http.socks import *  # noqa: F403
