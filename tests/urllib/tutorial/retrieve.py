"""urlretrieve with a reporthook, then urlcleanup."""

import os
import urllib.request

base = os.environ["HTTPBIN"]
blocks = []
filename, headers = urllib.request.urlretrieve(
    base + "/bytes/20000?seed=7", reporthook=lambda n, size, total: blocks.append((n, size, total))
)
with open(filename, "rb") as f:
    data = f.read()
print(len(data), headers["Content-Type"], headers["Content-Length"], blocks[0], blocks[-1], len(blocks))
urllib.request.urlcleanup()
print(os.path.exists(filename))
