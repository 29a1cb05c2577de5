"""The web-platform-tests URL suite: urltestdata, setters, percent-encoding and toascii."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from netwire.errors import InvalidURL
from netwire.url import URL
from netwire.url._url import _fast_parse, _medium_join, _medium_parse, _parse, _plain

# Vendored beside this file (see wpt/SOURCE.md for where it comes from).
WPT_DIR = Path(__file__).resolve().parent / "wpt"


def load_wpt(name: str) -> Any:
    return json.loads((WPT_DIR / name).read_text(encoding="utf-8"))


URLTESTDATA = [case for case in load_wpt("urltestdata.json") if isinstance(case, dict)]
ATTRS = ("href", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash")


def _id(case: dict[str, Any]) -> str:
    text = case["input"] + ("" if case.get("base") is None else "  @base " + case["base"])
    return ascii(text)[1:-1][:80]


def test_urltestdata_count(capsys: pytest.CaptureFixture[str]) -> None:
    passed = 0
    for case in URLTESTDATA:
        try:
            url = URL(case["input"], case.get("base"))
        except InvalidURL:
            passed += bool(case.get("failure"))
            continue
        if not case.get("failure") and all(getattr(url, a) == case[a] for a in ATTRS):
            passed += 1
    with capsys.disabled():
        print(f"\nWPT urltestdata: {passed} of {len(URLTESTDATA)} cases pass")
    assert len(URLTESTDATA) == 891
    assert passed == len(URLTESTDATA)


@pytest.mark.parametrize("case", URLTESTDATA, ids=[_id(c) for c in URLTESTDATA])
def test_urltestdata(case: dict[str, Any]) -> None:
    base = case.get("base")
    if case.get("failure"):
        with pytest.raises(InvalidURL):
            URL(case["input"], base)
        return
    url = URL(case["input"], base)
    got = {a: getattr(url, a) for a in ATTRS if a in case}
    assert got == {a: case[a] for a in ATTRS if a in case}
    if "origin" in case:
        assert url.origin == case["origin"]
    # Parsing the serialisation again is stable, and the search params round-trip.
    assert URL(url.href).href == url.href


@pytest.mark.parametrize("case", URLTESTDATA, ids=[_id(c) for c in URLTESTDATA])
def test_shortcuts_agree(case: dict[str, Any]) -> None:
    """Where the fast or medium path accepts an input, it gives what the state machine gives."""
    base = case.get("base")
    try:
        expected = _parse(case["input"], None if base is None else _parse(base, None)).href
    except InvalidURL:
        expected = None
    if base is None:
        fast = _fast_parse(case["input"])
        if fast is not None:
            assert fast.href == expected
        if _plain(case["input"]):
            try:
                medium = _medium_parse(case["input"])
            except InvalidURL:
                assert expected is None
            else:
                if medium is not None:
                    assert medium.href == expected
    elif _plain(case["input"]):
        try:
            joined = _medium_join(URL(base), case["input"])
        except InvalidURL:
            assert expected is None
        else:
            if joined is not None:
                assert joined.href == expected


SETTERS = [
    (attr, case)
    for attr, cases in load_wpt("setters_tests.json").items()
    if attr != "comment"
    for case in cases
]


@pytest.mark.parametrize(
    ("attr", "case"), SETTERS, ids=[f"{a}:{ascii(c['href'])[1:-1][:40]}<-{ascii(c['new_value'])[1:-1][:30]}" for a, c in SETTERS]
)
def test_setters(attr: str, case: dict[str, Any]) -> None:
    url = URL(case["href"])
    new = url.replace(**{attr: case["new_value"]})
    for key, expected in case["expected"].items():
        assert getattr(new, key) == expected, key
    assert URL(new.href) == new


PERCENT = [case for case in load_wpt("percent-encoding.json") if isinstance(case, dict)]


@pytest.mark.parametrize("case", PERCENT, ids=[ascii(c["input"]) for c in PERCENT])
def test_percent_encoding(case: dict[str, Any]) -> None:
    # Only UTF-8 is in scope: the query and fragment of a special URL both encode this way.
    expected = case["output"]["utf-8"]
    url = URL("https://doesnotmatter.invalid/?" + case["input"] + "#" + case["input"])
    assert url.search == "?" + expected
    assert url.hash == "#" + expected


TOASCII = [case for case in load_wpt("toascii.json") if isinstance(case, dict)]


@pytest.mark.parametrize("case", TOASCII, ids=[ascii(c["input"])[1:-1][:60] for c in TOASCII])
def test_toascii(case: dict[str, Any]) -> None:
    output = case["output"]
    for template in ("https://{}/x", "http://{}:8080/x"):
        text = template.format(case["input"])
        if output is None:
            with pytest.raises(InvalidURL):
                URL(text)
        else:
            url = URL(text)
            assert url.hostname == output
            assert url.pathname == "/x"
    # hostname setter: a refused host leaves the URL unchanged.
    url = URL("https://x/x").replace(hostname=case["input"])
    assert url.hostname == (output if output is not None else "x")


def test_idna_v2() -> None:
    """UTS #46 conformance (the WPT's extract of IdnaTestV2), through the host parser."""
    cases = [c for c in load_wpt("IdnaTestV2.json") if isinstance(c, dict)]
    failures = []
    for case in cases:
        if case["input"] == "":
            # "https:///x" skips the empty authority and takes "x" as the host: nothing to check.
            continue
        try:
            got: str | None = URL(f"https://{case['input']}/x").hostname
        except InvalidURL:
            got = None
        if got != case["output"]:
            failures.append((case["input"], got, case["output"]))
    assert len(cases) > 2600
    assert failures == []
