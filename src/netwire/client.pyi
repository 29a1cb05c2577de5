"""Type-checker view of the old path ``netwire.client``: it is :mod:`netwire.http.client` (see netwire/_moved.py)."""

from netwire.http.client import *  # noqa: F403
