"""``netwire demo`` part: the welcome TCP server and client, and a UDP exchange, on loopback."""

from __future__ import annotations

import threading
from typing import Any, TextIO

from ...sockets.stream import Stream, describe_address
from ...sockets.tcp import TCPServer, connect_tcp
from ...sockets.udp import UDPClient, UDPServer


def _welcome(stream: Stream) -> None:
    while line := stream.readline(max_size=1024):
        if line.strip() == b"1":
            stream.send_all(b"welcome to server\n")
        else:
            stream.send_all(b"please go out\n")
            return


def run(out: TextIO) -> None:
    """Run both exchanges on 127.0.0.1 and describe them on ``out``."""
    print("== sockets: the welcome server (TCP) ==", file=out)
    with TCPServer(_welcome, "127.0.0.1", 0, timeout=5.0) as server:
        print(f"server listening on {describe_address(server.address)} (5 s idle timeout)", file=out)
        with connect_tcp("127.0.0.1", server.port, timeout=5.0) as client:
            for message in (b"1", b"1", b"2"):
                client.send_line(message)
                answer = client.recv_line()
                print(f"client sent {message.decode()!r:5} -> server answered {answer!r}", file=out)
            print(f"after 'please go out' the server closed: recv_line() -> {client.recv_line()!r}", file=out)
    print("server shut down gracefully", file=out)

    print("== sockets: a UDP exchange ==", file=out)
    got: list[tuple[bytes, Any]] = []
    done = threading.Event()

    def receiver(data: bytes, address: Any) -> bytes | None:
        if not data:
            done.set()
            return None
        got.append((data, address))
        return data.upper()

    with UDPServer(receiver, "127.0.0.1", 0) as udp, UDPClient("127.0.0.1", udp.port, timeout=2.0) as sender:
        for text in (b"hello", b"over", b"udp"):
            reply = sender.request(text)
            print(f"sent {text!r} -> reply {reply!r}", file=out)
        sender.send(b"")
        done.wait(2.0)
    for data, address in got:
        print(f"receiver got {data!r} from {describe_address(address)}", file=out)
    print(f"receiver stopped on the empty datagram after {len(got)} datagrams", file=out)
