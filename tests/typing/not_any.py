"""Each marked line must be a type error: proof that the name is typed, not ``Any``."""

from __future__ import annotations

import netwire

a: int = netwire.AsyncClient  # error
b: int = netwire.AsyncResponse  # error
c: int = netwire.fetch_all  # error
d: int = netwire.FetchOutcome  # error
e: int = netwire.Client  # error
f: int = netwire.Response(200).url  # error
g: int = netwire.get  # error
h: int = netwire.parse.urlsplit("http://x/").netloc  # error
i: int = netwire.parse.urlsplit(b"http://x/").netloc  # error
