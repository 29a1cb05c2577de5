"""A timeout of 0.1 s against a slow endpoint, caught as the tutorials catch it."""

import os
import socket
import urllib.error
import urllib.request

try:
    urllib.request.urlopen(os.environ["HTTPBIN"] + "/delay/1", timeout=0.1)
except urllib.error.URLError as e:
    print("URLError", isinstance(e.reason, socket.timeout))
except socket.timeout:  # noqa: UP041 - the tutorials spell it so
    print("socket.timeout")
else:
    print("no timeout")
