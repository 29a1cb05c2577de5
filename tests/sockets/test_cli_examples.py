"""The netwire tcp/udp/ping/sniff commands and the example programs, run as real subprocesses."""

from __future__ import annotations

import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

import pytest

from netwire.sockets.stream import Stream
from netwire.sockets.tcp import TCPServer, connect_tcp
from netwire.sockets.udp import UDPClient, UDPServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
       "PYTHONUNBUFFERED": "1"}


def netwire(*args: str, **kw: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "netwire", *args], env=ENV, **kw)


def example(name: str, *args: str, **kw: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(EXAMPLES / name), *args], env=ENV, **kw)


def wait_port(stream: IO[bytes] | None) -> int:
    """Read lines until one announces the port."""
    assert stream is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = stream.readline().decode()
        if not line:
            break
        ports = re.findall(r"(?:port |:)(\d+)\b", line)
        if ports and "listening" in line:
            return int(ports[-1])
    raise AssertionError("the process never said it was listening")


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
        p.wait()
        for f in (p.stdin, p.stdout, p.stderr):
            if f:
                f.close()


# -- netwire tcp -----------------------------------------------------------------------------------
def test_tcp_listen_is_netcat_like(procs: list[subprocess.Popen[bytes]]) -> None:
    p = netwire("tcp", "listen", "0", "--host", "127.0.0.1",
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(p)
    port = wait_port(p.stderr)
    with connect_tcp("127.0.0.1", port, timeout=10) as s:
        s.send_all(b"from client\n")
        s.send_eof()
        time.sleep(0.3)  # the listener sees our end of stream first: a half-close, we still read
        assert p.stdin is not None
        p.stdin.write(b"from server\n")
        p.stdin.close()
        assert s.recv_line() == b"from server"
        assert s.recv_line() is None
    assert p.stdout is not None
    out = p.stdout.read()
    assert p.wait(10) == 0
    assert out == b"from client\n"


def test_tcp_connect_is_netcat_like() -> None:
    def upper(stream: Stream) -> None:
        for line in stream.iter_lines():
            stream.send_line(line.upper())

    with TCPServer(upper, "::1", 0) as server:
        r = subprocess.run([sys.executable, "-m", "netwire", "tcp", "connect", "::1", str(server.port)],
                           input=b"hello\nworld\n", capture_output=True, env=ENV, timeout=20)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"HELLO\nWORLD\n"


def test_tcp_connect_refused_is_one_clear_error(free_port: Any) -> None:
    r = subprocess.run([sys.executable, "-m", "netwire", "tcp", "connect", "127.0.0.1", str(free_port())],
                       input=b"", capture_output=True, env=ENV, timeout=20)
    assert r.returncode == 1
    assert b"connect to 127.0.0.1 port" in r.stderr and b"Traceback" not in r.stderr


def test_tcp_listen_echo_and_sigterm(procs: list[subprocess.Popen[bytes]]) -> None:
    p = netwire("tcp", "listen", "0", "--echo", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(p)
    port = wait_port(p.stderr)
    for host in ("127.0.0.1", "::1"):  # dual-stack wildcard
        with connect_tcp(host, port, timeout=10) as s:
            s.send_line(b"ping " + host.encode())
            assert s.recv_line() == b"ping " + host.encode()
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=15)
    assert p.returncode == 0
    assert b"stopped" in err


# -- netwire udp -----------------------------------------------------------------------------------
def test_udp_listen_and_send(procs: list[subprocess.Popen[bytes]]) -> None:
    p = netwire("udp", "listen", "0", "--host", "127.0.0.1", "--count", "3", "--show-address",
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(p)
    port = wait_port(p.stderr)
    r = subprocess.run([sys.executable, "-m", "netwire", "udp", "send", "127.0.0.1", str(port)],
                       input=b"one\ntwo\nthree\n", capture_output=True, env=ENV, timeout=20)
    assert r.returncode == 0, r.stderr
    out, _ = p.communicate(timeout=10)
    lines = out.decode().splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == ["one", "two", "three"]
    assert all(line.startswith("127.0.0.1:") for line in lines)


def test_udp_send_reply_against_echo(procs: list[subprocess.Popen[bytes]]) -> None:
    p = netwire("udp", "listen", "0", "--host", "::1", "--echo", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(p)
    port = wait_port(p.stderr)
    r = subprocess.run([sys.executable, "-m", "netwire", "udp", "send", "::1", str(port), "marco", "--reply"],
                       capture_output=True, env=ENV, timeout=20)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"marco\n"
    with UDPClient("::1", port) as c:
        c.send(b"")  # an empty datagram stops the listener
    p.wait(10)
    assert p.returncode == 0


# -- netwire ping / sniff --------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_ping_command(host: str) -> None:
    r = subprocess.run([sys.executable, "-m", "netwire", "ping", "-c", "3", "-i", "0.05", host],
                       capture_output=True, env=ENV, timeout=20, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(f"bytes from {host}: icmp_seq=") == 3
    assert "3 packets transmitted, 3 received, 0.0% packet loss" in r.stdout
    assert "rtt min/avg/max/mdev" in r.stdout


def test_sniff_command_sees_udp_on_lo(procs: list[subprocess.Popen[bytes]]) -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    port = receiver.getsockname()[1]
    p = netwire("sniff", "--iface", "lo", "-c", "1", "--timeout", "10", "--grep", f":{port} UDP",
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(p)
    done = threading.Event()

    def keep_sending() -> None:  # until the capture socket is surely open
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            while not done.wait(0.1):
                s.sendto(b"seen?", ("127.0.0.1", port))

    t = threading.Thread(target=keep_sending)
    t.start()
    try:
        out, err = p.communicate(timeout=15)
    finally:
        done.set()
        t.join()
        receiver.close()
    assert p.returncode == 0, err
    assert re.search(rf"lo (in|out)\s+IPv4 127\.0\.0\.1:\d+ > 127\.0\.0\.1:{port} UDP len=5 ttl=64", out.decode())


# -- examples --------------------------------------------------------------------------------------
def test_welcome_server_and_client(procs: list[subprocess.Popen[bytes]]) -> None:
    server = example("welcome_server.py", "--port", "0", "--host", "127.0.0.1",
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(server)
    port = wait_port(server.stdout)
    r = subprocess.run([sys.executable, str(EXAMPLES / "welcome_client.py"), "--host", "127.0.0.1",
                        "--port", str(port), "1", "1", "2"], capture_output=True, env=ENV, timeout=20, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["welcome to server", "welcome to server", "please go out"]
    # A silent client is disconnected after the 5 s timeout; others are served meanwhile.
    silent = socket.create_connection(("127.0.0.1", port))
    t = time.monotonic()
    r = subprocess.run([sys.executable, str(EXAMPLES / "welcome_client.py"), "--host", "127.0.0.1",
                        "--port", str(port), "hello"], capture_output=True, env=ENV, timeout=20, text=True)
    assert r.stdout == "please go out\n"
    silent.settimeout(10)
    assert silent.recv(10) == b""
    assert 4.0 < time.monotonic() - t < 9
    silent.close()
    server.send_signal(signal.SIGINT)
    out, err = server.communicate(timeout=15)
    assert server.returncode == 0, err
    assert b"welcome server stopped" in out
    assert b"Traceback" not in err


def test_welcome_client_refused(free_port: Any) -> None:
    r = subprocess.run([sys.executable, str(EXAMPLES / "welcome_client.py"), "--host", "127.0.0.1",
                        "--port", str(free_port())], capture_output=True, env=ENV, timeout=20, text=True)
    assert r.returncode == 1
    assert r.stderr.startswith("error: connect to 127.0.0.1 port")


def test_udp_sender_and_receiver(procs: list[subprocess.Popen[bytes]]) -> None:
    receiver = example("udp_receiver.py", "--port", "0", "--host", "127.0.0.1",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    procs.append(receiver)
    port = wait_port(receiver.stdout)
    r = subprocess.run([sys.executable, str(EXAMPLES / "udp_sender.py"), "--host", "127.0.0.1", "--port", str(port)],
                       input=b"first line\nsecond line\n", capture_output=True, env=ENV, timeout=20)
    assert r.returncode == 0, r.stderr
    out, _ = receiver.communicate(timeout=10)
    lines = out.decode().splitlines()
    assert re.fullmatch(r"received 'first line' from 127\.0\.0\.1:\d+", lines[0])
    assert re.fullmatch(r"received 'second line' from 127\.0\.0\.1:\d+", lines[1])
    assert lines[2] == "empty datagram: stopping"
    assert receiver.returncode == 0


def test_demo_part_runs() -> None:
    import io

    from netwire.cli.demos import sockets as demo

    out = io.StringIO()
    demo.run(out)
    text = out.getvalue()
    assert "server answered b'welcome to server'" in text
    assert "server answered b'please go out'" in text
    assert "reply b'HELLO'" in text
    assert "after 3 datagrams" in text


def test_udp_server_used_by_examples_is_real() -> None:
    # The receiver's handler API in one line: data and address in, optional reply out.
    with UDPServer(lambda d, a: d[::-1], "127.0.0.1", 0) as s, UDPClient("127.0.0.1", s.port) as c:
        assert c.request(b"abc") == b"cba"
