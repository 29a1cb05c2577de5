"""netwire.http: the HTTP client product, from the send loop down to the bytes on the wire.

Owns (top to bottom): the drivers ``client`` (sync ``Client``) and ``aio`` (``AsyncClient``) and
the batch scheduler ``fetch``; ``flow``, the one sans-IO send loop both drivers run; ``clientbase``
(options, request building, routes); ``policy/`` (redirects, auth, cookies, proxies, retries: pure);
``pool``/``aio_pool`` (connections per origin); ``connection``/``aio_connection`` (one socket or
transport, TLS, deadlines) with the tunnels ``proxy_tunnel`` (HTTP CONNECT) and ``socks``
(SOCKS5); ``http11`` (sans-IO HTTP/1.1); HTTP/2 as ``h2_core`` (sans-IO, over the ``h2``
package) driven by ``h2_connection`` (threads) and ``aio_h2_connection`` (asyncio); and the leaves ``models``, ``content``, ``decoders``,
``_charset``. Inside, nothing lower imports higher: http11 and policy never import a connection,
pool or driver.

May import: ``netwire.url``, ``netwire.errors``, ``netwire.robots`` (rules and the sans-IO cache),
``netwire._psl``, ``netwire.sockets`` (happy eyeballs), the package root (``__version__``). Never ``netwire.cli``, ``netwire.bulk`` or the urllib faces (``request``,
``error``, ``response``, ``parse``, ``robotparser``) at import time. Two call-time exceptions
remain, to be removed by the url/ and _urllib/ split: ``clientbase`` imports ``netwire.parse``
(``unquote``) for userinfo, and ``fetch.bulk`` imports ``netwire.bulk`` when called.

Imported by: the public names in ``netwire/__init__.py`` (lazily), the urllib faces, ``bulk/``,
``cli/`` commands (at run time only), and the old top-level alias modules (``netwire.client``...).
"""
