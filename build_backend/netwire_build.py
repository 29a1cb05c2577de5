"""netwire's in-tree PEP 517 build backend: setuptools', plus one decision about mypy.

Why not plain ``setuptools.build_meta``: mypy (which carries mypyc) is a large build requirement
that only the optional compiled build needs. This wrapper asks for it only when NETWIRE_COMPILE is
set, and keeps editable installs pure whatever the environment says (compiled extension modules
next to the sources would shadow every edit). See setup.py for the compiled module list.
"""

from __future__ import annotations

import os
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import (  # noqa: F401  (re-exported hooks, unchanged)
    build_sdist,
    get_requires_for_build_sdist,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

# The mypy release the compiled build is tested with (scripts/test-compiled); older ones may lack
# features the sources use, newer ones are usually fine.
MYPY_REQUIREMENT = "mypy>=1.18"


def _compiling() -> bool:
    return os.environ.get("NETWIRE_COMPILE", "").strip().lower() not in ("", "0", "no", "false", "off")


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    requires = list(_setuptools.get_requires_for_build_wheel(config_settings))
    if _compiling():
        requires.append(MYPY_REQUIREMENT)
    return requires


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    return str(_setuptools.build_wheel(wheel_directory, config_settings, metadata_directory))


def get_requires_for_build_editable(config_settings: dict[str, Any] | None = None) -> list[str]:
    return list(_setuptools.get_requires_for_build_editable(config_settings))


def build_editable(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    # An editable install is for working on the sources: always pure (setup.py reads this).
    os.environ["NETWIRE_BUILD_EDITABLE"] = "1"
    return str(_setuptools.build_editable(wheel_directory, config_settings, metadata_directory))
