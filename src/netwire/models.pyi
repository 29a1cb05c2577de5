"""Type-checker view of the old path ``netwire.models``: it is :mod:`netwire.http.models` (see netwire/_moved.py)."""

from netwire.http.models import *  # noqa: F403
