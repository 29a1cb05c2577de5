"""Type-checker view of the old path ``netwire.aio_pool``: it is :mod:`netwire.http.aio_pool` (see netwire/_moved.py)."""

from netwire.http.aio_pool import *  # noqa: F403
