"""Servers on loopback for the test suite (and the benchmarks), in one place, as urllib3's
``dummyserver/``.

What lives here, and what each area's conftest.py should import rather than write again:

* :mod:`tests.servers.ports`: ``free_port``, ``wait_listening``, ``open_fds`` and ``no_fd_leak``.
* :mod:`tests.servers.nginx`: one nginx launcher; each area describes its site as data
  (:class:`~tests.servers.nginx.Site`: locations and files), the launcher does the rest.
* :mod:`tests.servers.tls`: one session trustme CA (and a second one nobody trusts), and
  one small HTTPS server recording handshakes and request paths.
* :mod:`tests.servers.faults`: the scripted fault server, for what real servers will not do.
* :mod:`tests.servers.proxies`: tinyproxy and dante launchers, and a (TLS) relay in front of them.
* :mod:`tests.servers.echo`: an HTTP(S) echo server and the policy server (retries, encodings).
* :mod:`tests.servers.raw`: raw recorders: one request per connection, or keep-alive recording
  the exact bytes of each request, on TCP or a Unix socket; a listener whose accept queue is
  full (connects hang); a peer that accepts and never says a word.
* :mod:`tests.servers.robots`: a robots.txt server with routes set per test.
* :mod:`tests.servers.h2`: HTTP/2 peers: nginx sites with ``listen ... ssl http2`` / ``http2``
  (h2c), and hypercorn serving a small ASGI app (or httpbin's WSGI app) over TLS or h2c.
* :mod:`tests.servers.h2_hostile`: a hostile HTTP/2 server of our own (h2 server-side and raw
  frames): GOAWAY, RST_STREAM, shut windows, PING trickles, CONTINUATION and SETTINGS floods.

It imports only the standard library, trustme, netwire's public API and (the two HTTP/2
modules) h2 and hypercorn: it must stay usable
from ``bench/`` and from any test folder without importing a conftest.
"""
