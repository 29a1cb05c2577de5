"""Old path of the HTTP CONNECT tunnel: it lives in :mod:`netwire.http.tunnels` now."""

from __future__ import annotations

from .tunnels import TLSInTLSSocket, authority, http_connect

__all__ = ["TLSInTLSSocket", "authority", "http_connect"]
