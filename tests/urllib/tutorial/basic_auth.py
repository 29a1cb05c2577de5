"""Basic authentication through a password manager, as in the urllib HOWTO."""

import json
import os
import urllib.error
import urllib.request

base = os.environ["HTTPBIN"]
password_mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
top_level_url = base + "/"
password_mgr.add_password(None, top_level_url, "user", "passwd")
handler = urllib.request.HTTPBasicAuthHandler(password_mgr)
opener = urllib.request.build_opener(handler)
with opener.open(base + "/basic-auth/user/passwd") as r:
    print(r.status, json.loads(r.read()))
urllib.request.install_opener(opener)
with urllib.request.urlopen(base + "/basic-auth/user/passwd") as r:
    print(r.status, json.loads(r.read()))
try:
    urllib.request.urlopen(base + "/basic-auth/user/other")
except urllib.error.HTTPError as e:
    print(e.code, e.reason, e.headers["WWW-Authenticate"])
