"""URLSearchParams and the application/x-www-form-urlencoded codec it serialises with."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from ._percent import _FORM_RE, _FORM_T, _encode, _percent_decode, _usv, python_class

# --------------------------------------------------------------------------------------------
# URLSearchParams


def _form_decode(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    return _percent_decode(text.encode("utf-8")).decode("utf-8", "replace")


def _form_parse(query: str) -> list[tuple[str, str]]:
    """application/x-www-form-urlencoded parsing of a string."""
    pairs: list[tuple[str, str]] = []
    for part in _usv(query).split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((_form_decode(name), _form_decode(value)))
    return pairs


def _form_encode(text: str) -> str:
    return _encode(_usv(text), _FORM_T, _FORM_RE)


@python_class  # compiled build: sets __hash__ = None in its body
class URLSearchParams:
    """An ordered, mutable list of name/value pairs: the standard's ``URLSearchParams``.

    Built from a query string (a leading ``?`` is dropped), a mapping, or an iterable of pairs.
    ``str(params)`` is the application/x-www-form-urlencoded serialisation. Being mutable, it is
    not tied to a URL: ``url.with_search_params(params)`` makes a URL with it.
    """

    __slots__ = ("_pairs",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(
        self, init: str | Mapping[str, str] | Iterable[tuple[str, str]] | URLSearchParams | None = None
    ) -> None:
        self._pairs: list[tuple[str, str]]
        if init is None:
            self._pairs = []
        elif isinstance(init, str):
            self._pairs = _form_parse(init[1:] if init[:1] == "?" else init)
        elif isinstance(init, URLSearchParams):
            self._pairs = list(init._pairs)
        elif isinstance(init, Mapping):
            self._pairs = [(str(k), str(v)) for k, v in init.items()]
        else:
            pairs = []
            for item in init:
                pair = tuple(item)
                if len(pair) != 2:
                    raise TypeError("URLSearchParams wants pairs of (name, value)")
                pairs.append((str(pair[0]), str(pair[1])))
            self._pairs = pairs

    def append(self, name: str, value: str) -> None:
        """Add a pair at the end."""
        self._pairs.append((name, value))

    def delete(self, name: str, value: str | None = None) -> None:
        """Remove every pair with this name (and this value, when given)."""
        self._pairs = [
            (n, v) for n, v in self._pairs if not (n == name and (value is None or v == value))
        ]

    def get(self, name: str) -> str | None:
        """The value of the first pair with this name, or None."""
        for n, v in self._pairs:
            if n == name:
                return v
        return None

    def get_all(self, name: str) -> list[str]:
        """The values of every pair with this name, in order."""
        return [v for n, v in self._pairs if n == name]

    def has(self, name: str, value: str | None = None) -> bool:
        """Whether a pair with this name (and this value, when given) exists."""
        return any(n == name and (value is None or v == value) for n, v in self._pairs)

    def set(self, name: str, value: str) -> None:
        """Set the first pair with this name to ``value`` and remove the others (or append)."""
        out: list[tuple[str, str]] = []
        done = False
        for n, v in self._pairs:
            if n == name:
                if not done:
                    out.append((n, value))
                    done = True
            else:
                out.append((n, v))
        if not done:
            out.append((name, value))
        self._pairs = out

    def sort(self) -> None:
        """Stable sort by name, comparing UTF-16 code units as the standard says."""
        self._pairs.sort(key=lambda pair: pair[0].encode("utf-16-be", "surrogatepass"))

    @property
    def size(self) -> int:
        """The number of pairs."""
        return len(self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._pairs))

    def __contains__(self, name: object) -> bool:
        return any(n == name for n, _ in self._pairs)

    def keys(self) -> list[str]:
        """The names, in order (with repeats)."""
        return [n for n, _ in self._pairs]

    def values(self) -> list[str]:
        """The values, in order."""
        return [v for _, v in self._pairs]

    def items(self) -> list[tuple[str, str]]:
        """The pairs, in order."""
        return list(self._pairs)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, URLSearchParams):
            return self._pairs == other._pairs
        return NotImplemented

    def __str__(self) -> str:
        return "&".join(_form_encode(n) + "=" + _form_encode(v) for n, v in self._pairs)

    def __repr__(self) -> str:
        return f"URLSearchParams({self._pairs!r})"
