"""A Request with headers, a method and add_header."""

import json
import os
import urllib.request

base = os.environ["HTTPBIN"]
req = urllib.request.Request(
    base + "/anything?q=1",
    data=b'{"a": 1}',
    headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)", "Content-Type": "application/json"},
    method="PUT",
)
req.add_header("Referer", "http://www.python.org/")
print(req.get_method(), req.type, req.selector, req.has_header("Referer"), req.get_header("User-agent"))
with urllib.request.urlopen(req) as response:
    body = json.loads(response.read().decode("utf-8"))
print(body["method"], body["json"], body["args"])
print(body["headers"]["User-Agent"], body["headers"]["Referer"], body["headers"]["Content-Type"])

head = urllib.request.Request(base + "/get", method="HEAD")
with urllib.request.urlopen(head) as response:
    print(response.status, response.read(), response.getheader("Content-Type"))
