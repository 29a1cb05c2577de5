"""Old path of the SOCKS5 handshake: it lives in :mod:`netwire.http.tunnels` now."""

from __future__ import annotations

from .tunnels import REPLY_CODES, Socks5Handshake, socks5_connect

__all__ = ["REPLY_CODES", "Socks5Handshake", "socks5_connect"]
