"""A 1 GiB multipart upload streams from disk: the client's peak RSS stays under 50 MB."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

GIB = 1 << 30


class DiscardServer:
    """Reads one request (head + Content-Length body), counts the body bytes, answers 200."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received = 0
        self.head = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            conn.settimeout(60)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            self.head, _, rest = data.partition(b"\r\n\r\n")
            fields = dict(
                line.split(b":", 1) for line in self.head.split(b"\r\n")[1:] if b":" in line
            )
            length = int({k.strip().lower(): v for k, v in fields.items()}[b"content-length"])
            if b"100-continue" in self.head.lower():
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.received = len(rest)
            buf = bytearray(1 << 20)
            while self.received < length:
                n = conn.recv_into(buf)
                if not n:
                    break
                self.received += n
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="peak RSS is read from /proc (Linux)")
@pytest.mark.timeout(180)
def test_one_gib_multipart_upload_keeps_client_memory_small(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    with open(path, "wb") as f:
        f.truncate(GIB)  # sparse: no disk space used, reads give zeros
    srv = DiscardServer()
    script = textwrap.dedent(
        f"""
        import netwire

        def peak_kib():
            # VmHWM: this process's peak resident set (ru_maxrss would carry the forking
            # parent's peak across exec).
            for line in open("/proc/self/status"):
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])

        print(peak_kib())
        with open({str(path)!r}, "rb") as f, netwire.Client(timeout=60) as c:
            r = c.post("http://127.0.0.1:{srv.port}/upload", data={{"note": "big"}}, files={{"file": f}})
        print(r.status, r.content.decode(), peak_kib())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=170, env={**os.environ}
    )
    assert out.returncode == 0, out.stderr
    start_kib, status, body, peak_kib = out.stdout.split()
    print(f"client peak RSS: {int(start_kib) / 1024:.1f} MB before the upload, {int(peak_kib) / 1024:.1f} MB after")
    srv.thread.join(30)
    assert (status, body) == ("200", "ok")
    assert srv.received > GIB  # the file plus the multipart framing all arrived
    assert b"multipart/form-data; boundary=" in srv.head
    assert int(peak_kib) < 50 * 1024, f"client peak RSS {int(peak_kib) / 1024:.1f} MB"
