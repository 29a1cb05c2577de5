"""Type-checker view of the old path ``netwire._charset``: it is :mod:`netwire.http._charset` (see netwire/_moved.py)."""

from netwire.http._charset import *  # noqa: F403
