"""Type-checker view of the old path ``netwire._robots_cache``: it is :mod:`netwire.robots._cache` (see netwire/_moved.py)."""

from netwire.robots._cache import *  # noqa: F403
