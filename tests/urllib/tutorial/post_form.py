"""POST with urlencoded data, as in the urllib HOWTO."""

import json
import os
import urllib.parse
import urllib.request

url = os.environ["HTTPBIN"] + "/post"
values = {"name": "Michael Foord", "location": "Northampton", "language": "Python"}
data = urllib.parse.urlencode(values)
data = data.encode("ascii")  # data should be bytes
req = urllib.request.Request(url, data)
with urllib.request.urlopen(req) as response:
    the_page = response.read()
body = json.loads(the_page)
print(body["form"])
print(body["headers"]["Content-Type"], body["headers"]["Content-Length"])
print(req.get_method(), req.has_header("Content-type"), req.get_header("Content-length"))
