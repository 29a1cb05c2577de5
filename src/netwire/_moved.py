"""Old module paths from before the folder move, served as the very same module objects.

``netwire.client`` is now ``netwire.http.client``, ``netwire.policy.cookies`` is
``netwire.http.policy.cookies``, and so on (table below). The old names stay importable, and
importing one yields the new module itself, not a copy: ``netwire.client is netwire.http.client``,
so monkeypatching through the old path patches the code that runs.

Why a finder and no alias files at the old paths: git pairs a rename only when the old file is
gone, so with files left there, edits made elsewhere to ``netwire/client.py`` would not follow the
move when merged. Type checkers see the old paths through the ``.pyi`` stubs left beside this file.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # importlib.abc costs ~10 ms at start-up; the import system only needs the methods
    from collections.abc import Sequence
    from importlib.abc import Loader
    from types import ModuleType

_HTTP = (
    "http11", "models", "content", "decoders", "connection", "aio_connection", "pool", "aio_pool",
    "proxy_tunnel", "socks", "flow", "clientbase", "client", "aio", "fetch", "_charset",
)
_POLICY = ("auth", "cookiejar", "cookies", "proxies", "redirects", "retries")

#: old module name -> the module it now is.
MOVED: dict[str, str] = {
    **{f"netwire.{name}": f"netwire.http.{name}" for name in _HTTP},
    "netwire.policy": "netwire.http.policy",
    **{f"netwire.policy.{name}": f"netwire.http.policy.{name}" for name in _POLICY},
    "netwire._robots": "netwire.robots._rules",
    "netwire._robots_cache": "netwire.robots._cache",
    "netwire.sitemaps": "netwire.robots.sitemaps",
}


class _AliasLoader:
    """Hands the import system the already-imported new module instead of building one."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.own_spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        # The import system then stores this module under the old name too and binds it as an
        # attribute of the old parent; it keeps __name__/__file__, but overwrites __spec__.
        module = importlib.import_module(self.target)
        self.own_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run (the new module has run already): give the module its own spec back,
        so ``importlib.reload`` and ``__spec__.name`` still name ``netwire.http.client``."""
        module.__spec__ = self.own_spec


class _AliasFinder:
    """Finds only the old names in :data:`MOVED`; every other import passes through untouched."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, cast("Loader", _AliasLoader(new)))


def install() -> None:
    """Put the finder first in ``sys.meta_path`` (once): before the path finder would find the
    stub-only ``netwire/policy/`` folder as a namespace package."""
    if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
