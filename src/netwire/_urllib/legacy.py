"""``URLopener`` and ``FancyURLopener``, deprecated since Python 3.3 and removed in 3.14.

Defined only on the Pythons that still have them, as thin shims over :func:`build_opener`
(pooled connections, every netwire check), for old code.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from ..error import ContentTooShortError, HTTPError, URLError
from ..parse import quote, unwrap, urljoin, urlparse
from ..response import addinfourl
from .base import (
    USER_AGENT,
    Request,
    _splithost,
    _splittype,
    _splituser,
)
from .http_handlers import (
    HTTPDefaultErrorHandler,
    HTTPRedirectHandler,
)
from .opener import (
    build_opener,
)
from .proxy import (
    ProxyHandler,
    getproxies,
)
from .schemes import (
    ftpcache,
)

if sys.version_info < (3, 14):

    class _ReturnErrors(HTTPDefaultErrorHandler):
        """Hands an error response back (URLopener decides what to do with it)."""

        def http_error_default(self, req: Request, fp: Any, code: int, msg: str, hdrs: Any) -> Any:
            return fp

    class _NoRedirects(HTTPRedirectHandler):
        """URLopener does redirects itself (FancyURLopener) or not at all (URLopener)."""

        def http_error_302(self, req: Request, fp: Any, code: int, msg: str, headers: Any) -> Any:
            return None

        http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    class URLopener:
        """The pre-3.3 opener class, kept for old code: ``URLopener().open(url)``,
        ``retrieve(url, filename)``, ``addheader``, ``version`` (the User-Agent).

        A thin shim over :func:`build_opener` (so connections are pooled and every netwire
        check applies): ``open`` dispatches to ``open_<scheme>(url, data)`` as urllib does
        (``url`` is the text after ``scheme:``), and error statuses to ``http_error_<code>``
        then ``http_error_default`` (which raises ``HTTPError``). Redirects are not followed
        (FancyURLopener follows them).
        """

        version = USER_AGENT
        # Class defaults, so __del__ works on an instance whose __init__ raised.
        _tempfiles: list[str] | None = None
        tempcache: dict[str, Any] | None = None

        def __init__(self, proxies: Mapping[str, str] | None = None, **x509: Any) -> None:
            warnings.warn(
                f"{type(self).__name__} style of invoking requests is deprecated. Use newer urlopen functions/methods",
                DeprecationWarning,
                stacklevel=3,
            )
            if proxies is None:
                proxies = getproxies()
            if not hasattr(proxies, "keys"):
                raise TypeError("proxies must be a mapping")
            self.proxies = proxies
            self.key_file = x509.get("key_file")
            self.cert_file = x509.get("cert_file")
            self.addheaders: list[tuple[str, ...]] = [("User-Agent", self.version), ("Accept", "*/*")]
            self._tempfiles = []
            self.tempcache = None
            self.ftpcache = ftpcache
            self.type = ""

        def __del__(self) -> None:
            self.close()

        def close(self) -> None:
            self.cleanup()

        def cleanup(self) -> None:
            """Delete the temporary files :meth:`retrieve` made."""
            for name in self._tempfiles or ():
                with contextlib.suppress(OSError):
                    os.unlink(name)
            if self._tempfiles:
                del self._tempfiles[:]
            if self.tempcache:
                self.tempcache.clear()

        def addheader(self, *args: str) -> None:
            """Add a header (``name, value``) to every request."""
            self.addheaders.append(args)

        def open(self, fullurl: str, data: Any = None) -> Any:
            """Open ``fullurl`` through ``open_<scheme>``."""
            fullurl = quote(unwrap(fullurl), safe="%/:=&?~#+!$,;'@()*[]|")
            urltype, url = _splittype(fullurl)
            if not urltype:
                urltype = "file"
            self.type = urltype
            name = "open_" + urltype.replace("-", "_")
            if not hasattr(self, name) or name == "open_local_file":
                if urltype in self.proxies:
                    return self.open_unknown_proxy(self.proxies[urltype], fullurl, data)
                return self.open_unknown(fullurl, data)
            try:
                if data is None:
                    return getattr(self, name)(url)
                return getattr(self, name)(url, data)
            except (HTTPError, URLError):
                raise
            except OSError as msg:
                raise OSError("socket error", msg) from msg

        def open_unknown(self, fullurl: str, data: Any = None) -> Any:
            urltype, _url = _splittype(fullurl)
            raise OSError("url error", "unknown url type", urltype)

        def open_unknown_proxy(self, proxy: str, fullurl: str, data: Any = None) -> Any:
            urltype, _url = _splittype(fullurl)
            raise OSError("url error", f"invalid proxy for {urltype}", proxy)

        def retrieve(
            self,
            url: str,
            filename: str | None = None,
            reporthook: Callable[[int, int, int], Any] | None = None,
            data: Any = None,
        ) -> tuple[str, Any]:
            """Copy ``url`` to ``filename`` (a temporary file when None): ``(filename, headers)``."""
            url = unwrap(url)
            if self.tempcache and url in self.tempcache:
                return self.tempcache[url]  # type: ignore[no-any-return]
            with contextlib.closing(self.open(url, data)) as fp:
                headers = fp.info()
                if filename:
                    tfp: Any = open(filename, "wb")  # noqa: SIM115 - closed by the with below
                else:
                    suffix = os.path.splitext(_splithost(_splittype(url)[1])[1].partition("?")[0])[1]
                    fd, filename = tempfile.mkstemp(suffix)
                    assert self._tempfiles is not None
                    self._tempfiles.append(filename)
                    tfp = os.fdopen(fd, "wb")
                with tfp:
                    result = filename, headers
                    if self.tempcache is not None:
                        self.tempcache[url] = result
                    size = int(headers["Content-Length"]) if "content-length" in headers else -1
                    read = blocknum = 0
                    bs = 1024 * 8
                    if reporthook:
                        reporthook(blocknum, bs, size)
                    while block := fp.read(bs):
                        read += len(block)
                        tfp.write(block)
                        blocknum += 1
                        if reporthook:
                            reporthook(blocknum, bs, size)
            if size >= 0 and read < size:
                raise ContentTooShortError(f"retrieval incomplete: got only {read} out of {size} bytes", result)
            return result

        def _fetch(self, scheme: str, url: str, data: Any = None, extra: Mapping[str, str] | None = None) -> Any:
            """``scheme:url`` through a netwire opener; an error status goes to :meth:`http_error`."""
            opener = build_opener(ProxyHandler(self.proxies), _ReturnErrors, _NoRedirects)
            opener.addheaders = [(str(h[0]), str(h[1])) for h in self.addheaders]
            req = Request(f"{scheme}:{url}", data, headers=dict(extra or {}))
            response = opener.open(req)
            code = getattr(response, "code", None)
            if code is not None and scheme in ("http", "https") and not 200 <= code < 300:
                return self.http_error(url, response, code, response.msg, response.headers, data)
            return response

        def open_http(self, url: str, data: Any = None) -> Any:
            """Open ``//host/path`` over http."""
            return self._fetch("http", url, data)

        def open_https(self, url: str, data: Any = None) -> Any:
            """Open ``//host/path`` over https."""
            return self._fetch("https", url, data)

        def http_error(self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any = None) -> Any:
            """Hand an error status to ``http_error_<errcode>``, else to :meth:`http_error_default`."""
            method = getattr(self, f"http_error_{errcode}", None)
            if method is not None:
                result = method(url, fp, errcode, errmsg, headers) if data is None else method(
                    url, fp, errcode, errmsg, headers, data
                )
                if result:
                    return result
            return self.http_error_default(url, fp, errcode, errmsg, headers)

        def http_error_default(self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any) -> Any:
            """Raise :class:`~netwire.error.HTTPError`."""
            fp.close()
            raise HTTPError(url, errcode, errmsg, headers, None)

        def open_file(self, url: str) -> Any:
            """Open a ``file:`` URL of this host."""
            return self._fetch("file", url)

        def open_local_file(self, url: str) -> Any:
            """Open a local file (``url`` as after ``file:``)."""
            return self._fetch("file", url)

        def open_ftp(self, url: str) -> Any:
            """Open ``//host/path`` over ftp."""
            return self._fetch("ftp", url)

        def open_data(self, url: str, data: Any = None) -> Any:
            """Open a ``data:`` URL (``url`` as after ``data:``)."""
            return self._fetch("data", url)

    class FancyURLopener(URLopener):
        """URLopener that returns error responses instead of raising, follows redirects (up to
        ``maxtries``), and answers Basic challenges with :meth:`prompt_user_passwd`'s answer."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            URLopener.__init__(self, *args, **kwargs)
            self.auth_cache: dict[str, tuple[str | None, str | None]] = {}
            self.tries = 0
            self.maxtries = 10

        def http_error_default(self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any) -> Any:
            """Return the error response (``getcode()`` says the status)."""
            return addinfourl(fp, headers, f"{self.type or 'http'}:{url}", errcode)

        def http_error_302(
            self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any = None
        ) -> Any:
            self.tries += 1
            try:
                if self.maxtries and self.tries >= self.maxtries:
                    meth = getattr(self, "http_error_500", self.http_error_default)
                    return meth(url, fp, 500, "Internal Server Error: Redirect Recursion", headers)
                return self.redirect_internal(url, fp, errcode, errmsg, headers, data)
            finally:
                self.tries = 0

        def redirect_internal(self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any) -> Any:
            """Open the redirect target (http, https and ftp only)."""
            if "location" in headers:
                newurl = headers["location"]
            elif "uri" in headers:
                newurl = headers["uri"]
            else:
                return None
            fp.close()
            newurl = urljoin(f"{self.type}:{url}", newurl)
            if urlparse(newurl).scheme not in ("http", "https", "ftp", ""):
                raise HTTPError(
                    newurl, errcode, f"{errmsg} Redirection to url '{newurl}' is not allowed.", headers, fp
                )
            return self.open(newurl)

        def http_error_301(
            self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any = None
        ) -> Any:
            return self.http_error_302(url, fp, errcode, errmsg, headers, data)

        def http_error_303(
            self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any = None
        ) -> Any:
            return self.http_error_302(url, fp, errcode, errmsg, headers, data)

        def http_error_307(
            self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any = None
        ) -> Any:
            if data is None:
                return self.http_error_302(url, fp, errcode, errmsg, headers, data)
            return self.http_error_default(url, fp, errcode, errmsg, headers)

        def http_error_308(
            self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any = None
        ) -> Any:
            if data is None:
                return self.http_error_301(url, fp, errcode, errmsg, headers, data)
            return self.http_error_default(url, fp, errcode, errmsg, headers)

        def _basic_realm(self, value: str | None) -> str | None:
            match = re.match(r'[ \t]*([^ \t]+)[ \t]+realm="([^"]*)"', value or "")
            if match is None or match.group(1).lower() != "basic":
                return None
            return match.group(2)

        def _challenged(
            self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any, retry: bool, proxy: bool
        ) -> Any:
            realm = self._basic_realm(headers.get("proxy-authenticate" if proxy else "www-authenticate"))
            if realm is None or not retry:
                URLopener.http_error_default(self, url, fp, errcode, errmsg, headers)
            assert realm is not None
            method = getattr(self, f"retry_{'proxy_' if proxy else ''}{self.type}_basic_auth")
            return method(url, realm) if data is None else method(url, realm, data)

        def http_error_401(
            self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any = None, retry: bool = False
        ) -> Any:
            """Ask for credentials and retry, when ``retry`` (else, or without a Basic realm, raise)."""
            return self._challenged(url, fp, errcode, errmsg, headers, data, retry, proxy=False)

        def http_error_407(
            self, url: str, fp: Any, errcode: int, errmsg: str, headers: Any, data: Any = None, retry: bool = False
        ) -> Any:
            """The same for a proxy's challenge."""
            return self._challenged(url, fp, errcode, errmsg, headers, data, retry, proxy=True)

        def _retry(self, scheme: str, url: str, realm: str, data: Any, header: str, host: str) -> Any:
            user, passwd = self.get_user_passwd(host, realm)
            if not (user or passwd):
                return None
            token = base64.b64encode(f"{user}:{passwd}".encode()).decode("ascii")
            return self._fetch(scheme, url, data, {header: f"Basic {token}"})

        def _proxy_host(self, scheme: str) -> str:
            proxy = self.proxies.get(scheme, "")
            return _splituser(_splithost(_splittype(proxy)[1])[0] or proxy)[1]

        def retry_proxy_http_basic_auth(self, url: str, realm: str, data: Any = None) -> Any:
            return self._retry("http", url, realm, data, "Proxy-Authorization", self._proxy_host("http"))

        def retry_proxy_https_basic_auth(self, url: str, realm: str, data: Any = None) -> Any:
            return self._retry("https", url, realm, data, "Proxy-Authorization", self._proxy_host("https"))

        def retry_http_basic_auth(self, url: str, realm: str, data: Any = None) -> Any:
            host = _splituser(_splithost(url)[0] or "")[1]
            return self._retry("http", url, realm, data, "Authorization", host)

        def retry_https_basic_auth(self, url: str, realm: str, data: Any = None) -> Any:
            host = _splituser(_splithost(url)[0] or "")[1]
            return self._retry("https", url, realm, data, "Authorization", host)

        def get_user_passwd(self, host: str, realm: str, clear_cache: int = 0) -> tuple[str | None, str | None]:
            """Credentials for ``realm`` at ``host``: remembered, else :meth:`prompt_user_passwd`'s."""
            key = f"{realm}@{host.lower()}"
            if key in self.auth_cache:
                if not clear_cache:
                    return self.auth_cache[key]
                del self.auth_cache[key]
            user, passwd = self.prompt_user_passwd(host, realm)
            if user or passwd:
                self.auth_cache[key] = (user, passwd)
            return user, passwd

        def prompt_user_passwd(self, host: str, realm: str) -> tuple[str | None, str | None]:
            """Ask on the terminal (override this in a program without one)."""
            import getpass

            try:
                user = input(f"Enter username for {realm} at {host}: ")
                passwd = getpass.getpass(f"Enter password for {user} in {realm} at {host}: ")
            except KeyboardInterrupt:
                print()
                return None, None
            return user, passwd

