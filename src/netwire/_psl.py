"""The Public Suffix List: which domains are public suffixes (``co.uk``, ``github.io``), for cookies.

A cookie with ``Domain=github.io`` would be sent to every site under github.io; RFC 6265 5.3
step 5 says to refuse a Domain attribute that is a public suffix, and browsers and curl use the
Public Suffix List (https://publicsuffix.org/) to know which those are.

The list is vendored as ``netwire/public_suffix_list.dat``, unchanged: a dated snapshot (its
``// VERSION:`` and ``// COMMIT:`` lines say which), distributed under the Mozilla Public
License 2.0 (the file's own header; https://mozilla.org/MPL/2.0/), taken from the
``publicsuffixlist`` package on PyPI, which republishes the upstream file.
``scripts/update_public_suffix_list.py`` refreshes it. The matcher below is ours: the list's
rules, ``*`` wildcards and ``!`` exceptions, by the algorithm publicsuffix.org describes, with
the implicit ``*`` rule (an unlisted TLD is a public suffix).

The file is read on first use (a cookie jar's first cookie), not at ``import netwire``.
"""

from __future__ import annotations

import importlib.resources

__all__ = ["is_public_suffix", "list_version", "public_suffix", "registrable_domain"]

DATA_FILE = "public_suffix_list.dat"

# Three sets, read once: plain rules, the parents of wildcard rules ("*.ck" -> "ck"), and
# exception rules ("!www.ck" -> "www.ck"); each rule both as listed and in its ASCII (punycode)
# form, since a host name from a URL arrives in ASCII.
_rules: set[str] | None = None
_wildcards: set[str] = set()
_exceptions: set[str] = set()
_version = ""


def _ascii(rule: str) -> str:
    if rule.isascii():
        return rule
    return ".".join(
        label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii") for label in rule.split(".")
    )


def _load() -> set[str]:
    global _rules, _wildcards, _exceptions, _version
    text = importlib.resources.files("netwire").joinpath(DATA_FILE).read_text("utf-8")
    rules: set[str] = set()
    wildcards: set[str] = set()
    exceptions: set[str] = set()
    version = ""
    for line in text.splitlines():
        # A rule is the first whitespace-separated word of a line; "//" starts a comment line.
        line = line.strip()
        if not line:
            continue
        if line.startswith("//"):
            if line.startswith("// VERSION:"):
                version = line.removeprefix("// VERSION:").strip()
            continue
        rule = line.split()[0].lower()
        if rule.startswith("!"):
            target = exceptions
            rule = rule[1:]
        elif rule.startswith("*."):
            target = wildcards
            rule = rule[2:]
        else:
            target = rules
        target.add(rule)
        target.add(_ascii(rule))
    _wildcards, _exceptions, _version = wildcards, exceptions, version
    _rules = rules
    return rules


def public_suffix(domain: str) -> str:
    """The public suffix of ``domain`` (lowercase, no trailing dot), e.g. ``co.uk`` for ``a.b.co.uk``.

    By the list's algorithm: an exception rule wins and its suffix is the rule minus its first
    label; otherwise the matching rule with the most labels; otherwise the TLD (the implicit
    ``*`` rule).
    """
    rules = _rules if _rules is not None else _load()
    labels = domain.lower().rstrip(".").split(".")
    n = len(labels)
    found = None
    for i in range(n):  # longest candidate first: the first rule matched has the most labels
        candidate = ".".join(labels[i:])
        if candidate in _exceptions:
            return ".".join(labels[i + 1 :])  # an exception prevails over any other match
        if found is None and (candidate in rules or (i + 1 < n and ".".join(labels[i + 1 :]) in _wildcards)):
            found = candidate
            if not _exceptions:  # pragma: no cover - the list has exceptions; keep the scan honest anyway
                break
    return found if found is not None else labels[-1]


def is_public_suffix(domain: str) -> bool:
    """Whether ``domain`` is itself a public suffix (``co.uk``, ``github.io``, ``com``, ``x.ck``)."""
    domain = domain.lower().rstrip(".")
    return bool(domain) and public_suffix(domain) == domain


def registrable_domain(domain: str) -> str | None:
    """The public suffix plus one label (``example.co.uk`` for ``www.example.co.uk``), or None
    when ``domain`` is a public suffix itself."""
    domain = domain.lower().rstrip(".")
    suffix = public_suffix(domain)
    if suffix == domain:
        return None
    head = domain[: len(domain) - len(suffix) - 1]
    return head.rsplit(".", 1)[-1] + "." + suffix


def list_version() -> str:
    """The snapshot's ``VERSION`` line, e.g. ``2026-10-22_08-36-41_UTC``."""
    if _rules is None:
        _load()
    return _version
