"""netwire.robots: robots.txt (RFC 9309) and sitemaps, as data in, data out.

Owns: ``_rules`` (parsing and matching one robots.txt: groups, longest match, Crawl-delay,
Request-rate, Sitemap lines); ``_cache`` (the sans-IO per-origin cache the clients' send loop
consults: ``decide`` -> a ``Decision`` or ``NeedsFetch``, then ``store``); ``sitemaps``
(streaming sitemap XML/text parsing, and a fetcher).

May import: ``netwire.errors``, ``netwire.url``. Never ``netwire.http`` at import time: the HTTP
layer imports this package, not the reverse. The one exception is the convenience fetcher
``sitemaps.sitemaps()``, which imports ``netwire.http.client`` and ``netwire.robotparser`` when
called (it is a small product on top of the client).

Imported by: ``netwire.http`` (``flow``, ``clientbase``, the drivers), ``netwire.robotparser``
(the ``urllib.robotparser`` face, which stays a top-level module), ``cli/commands/robots.py``.
"""
