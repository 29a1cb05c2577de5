"""A custom opener's addheaders, and a redirect followed."""

import json
import os
import urllib.request

base = os.environ["HTTPBIN"]
opener = urllib.request.build_opener()
opener.addheaders = [("User-agent", "Mozilla/5.0"), ("Accept-language", "en")]
with opener.open(base + "/headers") as r:
    headers = json.loads(r.read())["headers"]
print(headers["User-Agent"], headers["Accept-Language"])
with opener.open(base + "/redirect-to?url=/get%3Fx%3D1&status_code=307") as r:
    print(r.status, r.geturl().replace(base, ""), json.loads(r.read())["args"])
with urllib.request.urlopen(base + "/relative-redirect/3") as r:
    print(r.status, r.geturl().replace(base, ""))
