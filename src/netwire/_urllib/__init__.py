"""The implementation of ``urllib.request``'s twin; its public face is :mod:`netwire.request`.

Import the names from :mod:`netwire.request`, not from here: these modules are private and may
change. They are cut along urllib.request's own families, one floor above the other (a module
imports only those listed before it):

``base``           Request, BaseHandler, urllib's URL-splitting helpers, url2pathname/pathname2url
``proxy``          ProxyHandler, getproxies*, proxy_bypass*
``http_handlers``  the adapter onto netwire's Client (do_open), HTTP(S)Handler, redirects, cookies,
                   the error processors
``auth``           password managers, Basic and Digest handlers for origins and proxies
``schemes``        file:, data:, ftp: (ftpwrapper, CacheFTPHandler) and unknown URLs
``opener``         OpenerDirector, build_opener, install_opener, urlopen, urlretrieve, urlcleanup
``legacy``         URLopener and FancyURLopener (Python < 3.14 only)

Rules: this package sits on top of the HTTP engine and under the face. It may import the standard
library (never ``urllib.request``, ``urllib.parse`` or ``http.client``) and netwire's lower
floors: ``client``, ``models``, ``http11``, ``policy``, ``url``, ``parse``, ``errors``, ``error``
and ``response``. Only :mod:`netwire.request` imports it.
"""
