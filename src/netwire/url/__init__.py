"""The URL type: parsing and serialising per the WHATWG URL Standard (the public face).

This package owns the URL product: :class:`URL` (immutable, hashable, ``str(url) == url.href``),
:class:`URLSearchParams`, :data:`DEFAULT_PORTS` and :data:`SPECIAL_SCHEMES`. Import them from
here; the modules below are private and cut along the standard's own seams (as jsdom's
whatwg-url is):

``_percent``        the percent-encode sets, UTF-8 percent-encode and percent-decode
``_host``           the host parser: IPv4, IPv6, domain to ASCII, opaque hosts (+ a small cache)
``_idna``           UTS #46 ToASCII for non-ASCII domains (``idna``'s tables, loaded on first use)
``_parser``         the basic URL parser: the state machine, ``_basic_parse`` whole in one function
``_url``            the URL class, its fast and medium paths, the setters, serialising
``_search_params``  URLSearchParams and the application/x-www-form-urlencoded codec

Rules: the package imports only the standard library, :mod:`netwire.errors` and its own modules
(arrows point up the list above: ``_url`` may import every module, ``_percent`` none), never
anything else of netwire. Everyone above may import it: the models, the policy, the clients, the
urllib faces, the robots and bulk tools. :class:`URL` and :class:`URLSearchParams` say they belong
to ``netwire.url`` (their ``__module__``), so their repr, pickles and documentation keep the
public path.
"""

from __future__ import annotations

from ._parser import DEFAULT_PORTS as DEFAULT_PORTS
from ._parser import SPECIAL_SCHEMES as SPECIAL_SCHEMES
from ._search_params import URLSearchParams as URLSearchParams
from ._url import URL as URL

__all__ = ["DEFAULT_PORTS", "SPECIAL_SCHEMES", "URL", "URLSearchParams"]

# The public path, not the private module, is where these classes live for pickle and repr.
URL.__module__ = __name__
URLSearchParams.__module__ = __name__
