"""Helpers for the optional compiled build (mypyc; see docs/architecture.md, "Compiled build").

A leaf: the standard library only, so every module, compiled or not, may import it.
"""

from __future__ import annotations

from typing import TypeVar

_C = TypeVar("_C", bound=type)


def python_class(cls: _C) -> _C:
    """Return ``cls`` unchanged: a mark that keeps it a plain Python class in the compiled build.

    mypyc compiles a class with a decorator it does not know as a regular Python class instead of
    a native one. That is what classes need that a native class cannot be: tuple subclasses with
    mixins, classes whose slots are filled lazily through ``__getattr__`` or built with
    ``cls.__new__(cls)``, classes that interpreted code subclasses. Such a class works the same in
    both builds; only its attribute access is not sped up.
    """
    return cls
