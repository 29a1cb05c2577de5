"""Client policy: what to send next, as pure functions of (request, response).

Each module holds one rule set (redirects, auth, proxies, retries, cookies). None does I/O:
the sync and async clients are thin loops around them, so both obey exactly the same rules.

May import: ``netwire.http.models``, ``netwire.url``, ``netwire.errors``, ``netwire._psl`` and each
other; never a connection, pool, driver or ``flow`` (they are above). Imported by ``flow`` and
``clientbase``, the urllib face, and users (``Retry``, ``DigestAuth``... are public).
"""
