"""Client policy: what to send next, as pure functions of (request, response).

Each module holds one rule set (redirects, auth, proxies, retries, cookies). None does I/O:
the sync and async clients are thin loops around them, so both obey exactly the same rules.
"""
