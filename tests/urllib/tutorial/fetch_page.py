"""Fetching a page: urlopen as a context manager, status, headers, body."""

import os
import urllib.request

base = os.environ["HTTPBIN"]
with urllib.request.urlopen(base + "/html") as response:
    html = response.read()
    print(response.status, response.reason, response.msg, response.version)
    print(response.getheader("Content-Type"))
    print(response.getheader("Server"))
    print(response.getheader("X-Missing", "default"))
    print(len(html), html[:15])
    print(sorted(name for name, _ in response.getheaders() if name.lower() not in ("date", "connection")))
    print(response.geturl() == base + "/html", response.getcode(), response.url == base + "/html")
    info = response.info()
    print(info.get_content_type(), info.get_content_charset(), info["content-length"])
print(response.closed)
