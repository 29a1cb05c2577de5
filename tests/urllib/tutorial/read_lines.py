"""Reading a response line by line, as text, and as JSON."""

import io
import json
import os
import urllib.request

base = os.environ["HTTPBIN"]
with urllib.request.urlopen(base + "/stream/5") as r:
    print([json.loads(line)["id"] for line in r])
with urllib.request.urlopen(base + "/robots.txt") as r:
    print(repr(io.TextIOWrapper(r, encoding="utf-8").read()))
with urllib.request.urlopen(base + "/json") as r:
    print(sorted(json.load(r)))
with urllib.request.urlopen(base + "/html") as r:
    first = r.readline()
    rest = r.readlines()
    print(first, len(rest), rest[-1])
with urllib.request.urlopen(base + "/bytes/1000?seed=3") as r:
    a = r.read(10)
    b = r.read(990)
    print(len(a), len(b), r.read(), r.length)
