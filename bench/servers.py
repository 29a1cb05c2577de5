"""Real servers on loopback for the benchmarks: nginx serving fixed files.

``with nginx() as base_url:`` starts a private nginx (its own config, pid, logs and temp files
in a temporary directory) on a free port, serving ``small.bin`` (128 bytes) and ``big.bin``
(64 MiB), and stops it on exit. nginx is installed with apt-get when missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

NGINX_CONF = """
worker_processes 1;
daemon off;
master_process off;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    sendfile on;
    tcp_nopush on;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {dir}/www;
        location / {{ }}
        location /gzip/ {{ gzip on; gzip_types *; gzip_min_length 0; }}
        location /gzip-static/ {{ gzip_static always; gunzip off; }}
        location = /redirect/1 {{ return 302 /redirect/2; }}
        location = /redirect/2 {{ return 302 /redirect/3; }}
        location = /redirect/3 {{ return 302 /small.bin; }}
    }}
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if found:
        return found
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx-light"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    return "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def nginx(big_size: int = 64 * 1024 * 1024) -> Iterator[str]:
    binary = nginx_binary()
    with tempfile.TemporaryDirectory(prefix="netwire-bench-") as d:
        www = os.path.join(d, "www")
        os.makedirs(os.path.join(www, "gzip"))
        with open(os.path.join(www, "small.bin"), "wb") as f:
            f.write(os.urandom(64).hex().encode())
        with open(os.path.join(www, "big.bin"), "wb") as f:
            block = os.urandom(1 << 20)
            for _ in range(big_size >> 20):
                f.write(block)
        text = b"".join(b"line %d of a compressible text body\n" % i for i in range(2000))
        with open(os.path.join(www, "gzip", "text.txt"), "wb") as f:
            f.write(text)
        # The same body compressed ahead of time: the server only sends it, so the figures
        # measure the client's decoding rather than nginx compressing on every request.
        os.makedirs(os.path.join(www, "gzip-static"))
        import gzip

        with open(os.path.join(www, "gzip-static", "text.txt.gz"), "wb") as f:
            f.write(gzip.compress(text, 6))
        port = free_port()
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=d, port=port))
        proc = subprocess.Popen([binary, "-c", conf, "-p", d], stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"nginx did not start: {proc.stderr.read() if proc.stderr else ''!r}")
                    time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(10)
