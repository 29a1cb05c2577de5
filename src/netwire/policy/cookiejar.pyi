"""Type-checker view of the old path ``netwire.policy.cookiejar``: it is :mod:`netwire.http.policy.cookiejar` (see netwire/_moved.py)."""

from netwire.http.policy.cookiejar import *  # noqa: F403
