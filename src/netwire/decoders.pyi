"""Type-checker view of the old path ``netwire.decoders``: it is :mod:`netwire.http.decoders` (see netwire/_moved.py)."""

from netwire.http.decoders import *  # noqa: F403
