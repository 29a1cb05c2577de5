"""netwire.parse and netwire.robotparser against the running interpreter's urllib.parse and
urllib.robotparser: every public name exists, every public function and method takes the same
parameters (names, kinds, order, defaults), and ``__all__`` (so ``import *``) is the same.

netwire may add parameters only after CPython's, keyword-only and with a default (for example
``RobotFileParser(url, *, client=..., timeout=...)``): code written for urllib cannot tell.
"""

from __future__ import annotations

import inspect
import types
import urllib.parse
import urllib.robotparser
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import netwire.parse
import netwire.robotparser

PAIRS = [(urllib.parse, netwire.parse), (urllib.robotparser, netwire.robotparser)]
IDS = ["parse", "robotparser"]


def defined_here(module: types.ModuleType) -> Iterator[tuple[str, Any]]:
    """The module's public names, without what it merely imports (re, namedtuple, ...)."""
    for name in sorted(dir(module)):
        obj = getattr(module, name)
        if name.startswith("_") or isinstance(obj, types.ModuleType):
            continue
        if getattr(obj, "__module__", module.__name__) == module.__name__ or not callable(obj):
            yield name, obj


def callables(module: types.ModuleType) -> Iterator[tuple[str, Callable[..., Any]]]:
    """Every public function, class and public method (plus ``__init__``) of the module."""
    for name, obj in defined_here(module):
        if inspect.isclass(obj):
            yield name, obj
            for attr in ["__init__", *(a for a in dir(obj) if not a.startswith("_"))]:
                member = getattr(obj, attr)
                if callable(member) and not inspect.isclass(member):
                    yield f"{name}.{attr}", member
        elif callable(obj):
            yield name, obj


def resolve(module: types.ModuleType, dotted: str) -> Any:
    obj: Any = module
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def shape(parameter: inspect.Parameter) -> tuple[str, Any, Any]:
    default = parameter.default
    if callable(default):  # e.g. urlencode(quote_via=quote_plus): the twin function, by name
        default = default.__name__
    return parameter.name, parameter.kind, default


def signature_difference(theirs: Callable[..., Any], ours: Callable[..., Any]) -> str | None:
    try:
        reference = inspect.signature(theirs)
    except (TypeError, ValueError):
        return None  # a builtin without a signature (tuple.count on some versions)
    mine = inspect.signature(ours)
    want = [shape(p) for p in reference.parameters.values()]
    have = [shape(p) for p in mine.parameters.values()]
    if have[: len(want)] != want:
        return f"{reference} != {mine}"
    for extra in list(mine.parameters.values())[len(want) :]:
        if extra.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        if extra.kind is not inspect.Parameter.KEYWORD_ONLY or extra.default is inspect.Parameter.empty:
            return f"extra parameter {extra} of {mine} is not keyword-only with a default"
    return None


@pytest.mark.parametrize(("theirs", "ours"), PAIRS, ids=IDS)
def test_every_public_name_exists(theirs: types.ModuleType, ours: types.ModuleType) -> None:
    missing = [name for name, _ in defined_here(theirs) if not hasattr(ours, name)]
    assert missing == []


@pytest.mark.parametrize(("theirs", "ours"), PAIRS, ids=IDS)
def test_same_parameters(theirs: types.ModuleType, ours: types.ModuleType) -> None:
    checked = 0
    problems = []
    for dotted, reference in callables(theirs):
        difference = signature_difference(reference, resolve(ours, dotted))
        checked += 1
        if difference:
            problems.append(f"{dotted}: {difference}")
    assert problems == []
    assert checked > 20


@pytest.mark.parametrize(("theirs", "ours"), PAIRS, ids=IDS)
def test_all_and_star_import(theirs: types.ModuleType, ours: types.ModuleType) -> None:
    assert ours.__all__ == theirs.__all__
    mine: dict[str, Any] = {}
    reference: dict[str, Any] = {}
    exec(f"from {ours.__name__} import *", mine)
    exec(f"from {theirs.__name__} import *", reference)
    assert sorted(mine) == sorted(reference)


def test_keyword_calls_written_for_urllib() -> None:
    """Calls naming urllib's parameters run unchanged (the check above, on real calls)."""
    p = netwire.parse
    assert p.urlsplit(url="http://h/p", scheme="x", allow_fragments=False).path == "/p"
    assert p.urljoin(base="http://h/a/b", url="c", allow_fragments=True) == "http://h/a/c"
    assert p.quote(string="a b", safe="", encoding="utf-8", errors="strict") == "a%20b"
    assert p.quote_from_bytes(bs=b"a/b", safe="") == "a%2Fb"
    assert p.unquote(string="%41", encoding="utf-8", errors="strict") == "A"
    assert p.parse_qsl(qs="a=1", keep_blank_values=True, strict_parsing=False, max_num_fields=3, separator="&")
    assert p.urlencode(query={"a": "b c"}, doseq=False, safe="", quote_via=p.quote) == "a=b%20c"
    assert p.urlunsplit(components=("http", "h", "/", "", "")) == "http://h/"
    rp = netwire.robotparser.RobotFileParser(url="http://h/robots.txt")
    rp.parse(lines=["User-agent: *", "Disallow: /x"])
    assert rp.can_fetch(useragent="bot", url="http://h/x") is False
    assert rp.crawl_delay(useragent="bot") is None and rp.request_rate(useragent="bot") is None
