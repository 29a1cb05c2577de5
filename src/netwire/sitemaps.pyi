"""Type-checker view of the old path ``netwire.sitemaps``: it is :mod:`netwire.robots.sitemaps` (see netwire/_moved.py)."""

from netwire.robots.sitemaps import *  # noqa: F403
