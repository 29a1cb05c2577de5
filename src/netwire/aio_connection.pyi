"""Type-checker view of the old path ``netwire.aio_connection``: it is :mod:`netwire.http.aio_connection` (see netwire/_moved.py)."""

from netwire.http.aio_connection import *  # noqa: F403
