"""The socket commands' rough edges (issue 18, item 6): plain help text, IPv4 peers of a dual-stack
listener shown as IPv4 (as ncat does), and an unresolvable ping target's own exit code."""

from __future__ import annotations

import select
import socket
import subprocess
import time
from typing import Any

import pytest

from tests.cli.clitools import base_env, command, free_port, run_piped

MARKUP = ("``", ":func:", ":class:", ":data:", ":mod:", ":meth:")


@pytest.mark.parametrize("args", [["tcp"], ["tcp", "listen"], ["tcp", "connect"], ["udp"], ["ping"], ["sniff"],
                                  ["robots"], ["fetch"], ["demo"], ["get"]])
def test_help_has_no_rest_markup(cli: Any, args: list[str]) -> None:
    r = cli([*args, "--help"])
    assert r.rc == 0, r.err
    for mark in MARKUP:
        assert mark not in r.out, f"{' '.join(args)} --help shows {mark!r}"


def test_tcp_help_explains_the_subcommands(cli: Any) -> None:
    r = cli(["tcp", "--help"])
    assert "netwire tcp listen PORT" in r.out and "netwire tcp connect -z HOST PORTS" in r.out


def _stderr_line(proc: subprocess.Popen[bytes], needle: bytes, timeout: float = 10) -> bytes:
    assert proc.stderr is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 0.2)
        if ready:
            chunk = proc.stderr.read1(4096)  # type: ignore[attr-defined]
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.skipif(not socket.has_dualstack_ipv6(), reason="needs a dual-stack IPv6 socket")
def test_ipv4_peer_of_a_dual_stack_listener_prints_as_ipv4() -> None:
    port = free_port()
    proc = subprocess.Popen(command(["tcp", "listen", str(port)]), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env())
    try:
        assert b"listening on" in _stderr_line(proc, b"listening on")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            local = s.getsockname()
            s.sendall(b"hi")
            s.shutdown(socket.SHUT_WR)
            s.recv(10)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = err.decode()
    assert f"connection from 127.0.0.1:{local[1]}" in text, text
    assert "::ffff:" not in text
    assert out == b"hi"


def test_address_text() -> None:
    from netwire.cli.commands.tcp import address_text

    assert address_text(("::ffff:127.0.0.1", 5000, 0, 0)) == "127.0.0.1:5000"
    assert address_text(("::1", 5000, 0, 0)) == "[::1]:5000"
    assert address_text(("10.0.0.1", 80)) == "10.0.0.1:80"
    assert address_text(("::ffff:1:2", 80, 0, 0)) == "[::ffff:1:2]:80"


def test_ping_of_an_unresolvable_host_has_its_own_exit_code(stub_resolver: dict[str, str]) -> None:
    r = run_piped(["ping", "-c", "1", "no-such-host.invalid"], env=stub_resolver)
    assert r.rc == 6, r.err
    assert "no-such-host.invalid" in r.err and "resolving" in r.err
