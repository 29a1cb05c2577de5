"""A deterministic corpus of real-world-shaped URLs, relative references and query strings."""

from __future__ import annotations

import random

SCHEMES = ["http", "https", "HTTP", "ftp", "file", "ws", "wss", "mailto", "git+ssh", "svn", "data", "tel", "urn",
           "javascript", "sip", "news", "custom-app", "s3", "blob"]
HOSTS = ["example.com", "www.Example.COM", "127.0.0.1", "[::1]", "[2001:db8::7]", "[fe80::1%25eth0]", "localhost",
         "xn--bcher-kva.de", "bücher.de", "sub.domain.co.uk", "10.0.0.1", "0x7f.1", "a", "", "[v1.fe]", "[::ffff:1.2.3.4]",
         "host_name", "UPPER.case", "münchen.de"]
USERINFO = ["", "user@", "user:pass@", ":@", "us%40er:p%3Ass@", "a:b:c@", "@", "user:@"]
PORTS = ["", ":80", ":443", ":8080", ":", ":0", ":65535", ":65536", ":abc", ":-1", ": 80"]
PATHS = ["", "/", "/index.html", "/a/b/c", "/a/./b/../c", "/%7Euser/", "/path with space", "/;params",
         "/a;b/c;d", "/ü/ñ", "//double", "/a//b", "/..", "/.", "/a/b/", "/C:/x", "/search", "/%2e%2E/x"]
QUERIES = ["", "?", "?q=1", "?a=1&b=2", "?a=1;b=2", "?x=%20y+z", "?utf=%C3%BC", "?empty=&=v&k", "?a[]=1&a[]=2",
           "?q=a%zz", "?%", "?+=+", "?a=b=c", "?&&", "?q=hello world"]
FRAGMENTS = ["", "#", "#top", "#a?b", "#%20x", "#frag#ment", "#ü"]
RELATIVE = ["g", "./g", "g/", "/g", "//g", "?y", "g?y", "#s", "g#s", "g?y#s", ";x", "g;x", "g;x?y#s", "", ".", "./",
            "..", "../", "../g", "../..", "../../", "../../g", "../../../g", "/./g", "/../g", "g.", ".g", "g..", "..g",
            "./../g", "./g/.", "g/./h", "g/../h", "g;x=1/./y", "g;x=1/../y", "http:g", "https://other.org/x",
            "mailto:x@y", "a/b/c/../../d", "  /lead", "\t/tab", "%2e%2e/x", "//[::1]/p", "?#", "file:///etc/passwd"]
QS = ["", "a=1", "a=1&b=2", "a=1&a=2", "a", "a=", "=b", "&", "a=1&&b=2", "a+b=c+d", "a%20b=c%2Bd", "k=%C3%BC",
      "k=%FF", "k=%zz", "a=1;b=2", "x=%e2%82%ac", "a=b=c", "%=%", "+", "a==", "q=1&q=2&q=3", "é=ü", "a=%2", "a=%"]


def urls(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(n):
        scheme = rng.choice(SCHEMES)
        if rng.random() < 0.85:
            text = f"{scheme}://{rng.choice(USERINFO)}{rng.choice(HOSTS)}{rng.choice(PORTS)}"
        else:
            text = f"{scheme}:"
        text += rng.choice(PATHS) + rng.choice(QUERIES) + rng.choice(FRAGMENTS)
        r = rng.random()
        if r < 0.03:
            text = " \x00" + text
        elif r < 0.06:
            text = text[:5] + "\t" + text[5:] + "\n"
        out.append(text)
    return out


def relatives(n: int, seed: int = 2) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(RELATIVE) + (rng.choice(QUERIES) if rng.random() < 0.2 else "") for _ in range(n)]
