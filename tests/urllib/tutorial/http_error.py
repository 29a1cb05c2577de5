"""Catching HTTPError before URLError, and reading code, reason and headers."""

import os
import socket
import urllib.error
import urllib.request

base = os.environ["HTTPBIN"]
for path in ("/status/404", "/status/500", "/status/418", "/status/200"):
    req = urllib.request.Request(base + path)
    try:
        response = urllib.request.urlopen(req)
    except urllib.error.HTTPError as e:
        print("The server couldn't fulfill the request.")
        print("Error code:", e.code, e.reason, e.headers.get("Content-Type"), e.read()[:20])
        print(str(e), e.getcode(), e.geturl() == base + path, e.filename == base + path)
    except urllib.error.URLError as e:
        print("We failed to reach a server.")
        print("Reason:", e.reason)
    else:
        print("everything is fine", response.status)

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    closed_port = s.getsockname()[1]
try:
    urllib.request.urlopen(f"http://127.0.0.1:{closed_port}/")
except urllib.error.HTTPError as e:
    print("HTTPError?", e)
except urllib.error.URLError as e:
    print("We failed to reach a server.", type(e.reason).__name__, e.reason.errno)
