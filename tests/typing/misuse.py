"""Each marked line must be a type error: a misspelt or mistyped option is caught before it runs."""

from __future__ import annotations

import netwire


def misuse() -> None:
    netwire.Client(timout=5)  # error
    netwire.AsyncClient(verfy=False)  # error
    netwire.Client(verify=3)  # error
    netwire.Client(auth="user:pw")  # error
    netwire.Client().get("http://x/", timout=1)  # error
    netwire.Client().post("http://x/", jsn={})  # error
    netwire.get("http://x/", verfy=False)  # error
    netwire.post("http://x/", data=3)  # error
    netwire.fetch_all(["http://x/"], concurrncy=3)  # error
    netwire.fetch_all(["http://x/"], client=netwire.Client())  # error
    # The right spellings pass:
    netwire.Client(timeout=5, verify=False, auth=("user", "pw"))
    netwire.get("http://x/", verify=False, timeout=1.5, proxy="http://proxy:3128", cert=("c.pem", "k.pem"))
    netwire.fetch_all(["http://x/"], concurrency=3, client=netwire.AsyncClient())
