"""Socket-layer exceptions not covered by :mod:`netwire.errors` (which stays the root)."""

from __future__ import annotations

from ..errors import NetwireError

__all__ = ["PrivilegeError"]


class PrivilegeError(NetwireError, PermissionError):
    """A raw-socket operation needs a privilege or kernel feature this process lacks.

    The message says what is needed (root, ``CAP_NET_RAW``, a ``ping_group_range`` setting,
    Linux's ``AF_PACKET``...). Also a builtin :class:`PermissionError`.
    """
