"""Cookies through HTTPCookieProcessor and a CookieJar."""

import http.cookiejar
import json
import os
import urllib.request

base = os.environ["HTTPBIN"]
cj = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cj))
with opener.open(base + "/cookies/set?flavour=oatmeal&count=2") as r:
    print(r.status, json.loads(r.read()))
print(sorted((c.name, c.value) for c in cj))
with opener.open(base + "/cookies") as r:
    print(json.loads(r.read()))
with opener.open(base + "/cookies/delete?count") as r:
    print(json.loads(r.read()))
print(sorted(c.name for c in cj))
