"""HTTP/2: 20 requests in flight over ONE connection, and one 64 MiB body.

nginx on loopback with ``listen ... ssl http2`` (a trustme certificate), 128-byte bodies:

* 20 in flight over one HTTP/2 connection: netwire.AsyncClient(http2=True) (asyncio and
  uvloop), netwire.Client(http2=True) shared by 20 threads, httpx.AsyncClient(http2=True), and
  pycurl's multi interface with CURLPIPE_MULTIPLEX (libcurl + nghttp2 in C) when installed.
  Each keeps 20 requests outstanding; the figures are requests per second and the client
  process's CPU time per request (steadier on a loaded machine).
* The floor: what pure Python can reach on this workload at all. A bare asyncio Protocol over
  TLS (asyncio, and uvloop) writes one pre-encoded HEADERS frame per request (the same bytes for
  every stream but the id: no HPACK, no h2, no objects), keeps 20 streams open, and only counts
  END_STREAM flags in the frames that come back (a SETTINGS ack, a window big enough up
  front): the cost of the loop, the TLS and the syscalls alone. A client doing real work sits
  above it; pycurl's row beside it says whether ">= 1.0x pycurl" is reachable in Python here.
* 64 MiB in one GET: netwire over HTTP/2 against netwire over HTTP/1.1-over-TLS (the same
  nginx, the client offering only http/1.1 by ALPN), MB/s.
* HPACK decoding, CPU microseconds per header block: netwire's decoder against the ``hpack``
  package's, on the hpack-test-case stories in tests/http2/data/hpack (no server involved).

    python bench/run.py h2            # or: python bench/bench_h2.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import os
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from servers import bench_site

Row = dict[str, Any]

IN_FLIGHT = 20
REQUESTS = 20_000
SLOW_REQUESTS = 2_000  # httpx: its rate makes 20,000 take minutes; its rate is comparable
BIG = 64 * 1024 * 1024


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@contextmanager
def h2_nginx() -> Iterator[tuple[str, str]]:
    """nginx over TLS with HTTP/2; yields (base URL, CA file)."""
    from dataclasses import replace

    from tests.servers.h2 import write_cert
    from tests.servers.nginx import nginx_server
    from tests.servers.tls import session_ca

    with tempfile.TemporaryDirectory(prefix="netwire-bench-h2-") as tmp:
        d = Path(tmp)
        os.chmod(d, 0o755)
        crt, key = write_cert(d)
        ca = d / "ca.pem"
        session_ca().cert_pem.write_to_path(str(ca))
        site = bench_site(BIG)
        site = replace(
            site,
            listen="ssl http2",
            locations=f"ssl_certificate {crt}; ssl_certificate_key {key}; ssl_protocols TLSv1.3;" + site.locations,
            # 20 streams of 128 B: the default 8 KiB chunks are fine; a big body wants big ones.
            http=site.http + " http2_chunk_size 16k;",
        )
        with nginx_server(site, install=True) as server:
            yield f"https://localhost:{server.port}", str(ca)


def _measure(n: int, go: Callable[[int], None]) -> tuple[float, float]:
    go(IN_FLIGHT * 5)  # warm up: the connection, caches
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    go(n)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return n / wall, cpu / n * 1e6


async def _workers(n: int, one: Callable[[], Awaitable[int]]) -> None:
    per, extra = divmod(n, IN_FLIGHT)

    async def worker(count: int) -> int:
        got = 0
        for _ in range(count):
            got += await one()
        return got

    sizes = await asyncio.gather(*(worker(per + (i < extra)) for i in range(IN_FLIGHT)))
    assert sum(sizes) == n * 128, f"expected {n * 128} body bytes, got {sum(sizes)}"


def _on(loop: str, coro: Awaitable[Any]) -> Any:
    if loop == "uvloop":
        import uvloop

        return uvloop.run(coro)  # type: ignore[arg-type]
    return asyncio.run(coro)  # type: ignore[arg-type]


def netwire_async(url: str, ca: str, n: int, loop: str) -> tuple[float, float, int]:
    from netwire.aio import AsyncClient

    async def main() -> tuple[float, float, int]:
        async with AsyncClient(http2=True, verify=ca) as client:

            async def one() -> int:
                return len((await client.get(url)).content)

            await _workers(IN_FLIGHT * 5, one)
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            await _workers(n, one)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            conns = client.pool.connections_opened
            return n / wall, cpu / n * 1e6, conns

    return _on(loop, main())  # type: ignore[no-any-return]


def netwire_threads(url: str, ca: str, n: int) -> tuple[float, float, int]:
    import netwire

    with netwire.Client(http2=True, verify=ca) as client:

        def go(total: int) -> None:
            per, extra = divmod(total, IN_FLIGHT)
            got = [0] * IN_FLIGHT

            def worker(i: int) -> None:
                for _ in range(per + (i < extra)):
                    got[i] += len(client.get(url).content)

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(IN_FLIGHT)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sum(got) == total * 128

        rate, cpu = _measure(n, go)
        return rate, cpu, client.pool.connections_opened


def httpx_async(url: str, ca: str, n: int) -> tuple[float, float, int]:
    import httpx

    async def main() -> tuple[float, float, int]:
        async with httpx.AsyncClient(http2=True, verify=ca) as client:

            async def one() -> int:
                return len((await client.get(url)).content)

            await _workers(IN_FLIGHT * 5, one)
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            await _workers(n, one)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            return n / wall, cpu / n * 1e6, 1

    return asyncio.run(main())


def rnet_async(url: str, ca: str, n: int) -> tuple[float, float, int]:
    """rnet (Rust: hyper + BoringSSL, pip install rnet), HTTP/2 only, 20 tasks on one client."""
    from pathlib import Path as _Path

    import rnet

    async def main() -> tuple[float, float, int]:
        client = rnet.Client(http2_only=True, verify=_Path(ca))

        async def one() -> int:
            response = await client.get(url)
            return len(await response.bytes())

        await _workers(IN_FLIGHT * 5, one)
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        await _workers(n, one)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return n / wall, cpu / n * 1e6, 1

    return asyncio.run(main())


def pycurl_multiplexed(url: str, ca: str, n: int) -> tuple[float, float, int]:
    import pycurl

    multi = pycurl.CurlMulti()
    multi.setopt(pycurl.M_PIPELINING, pycurl.PIPE_MULTIPLEX)
    multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, 1)
    received = [0]

    def sink(data: bytes) -> None:
        received[0] += len(data)

    handles = []
    for _ in range(IN_FLIGHT):
        c = pycurl.Curl()
        c.setopt(pycurl.URL, url)
        c.setopt(pycurl.CAINFO, ca)
        c.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2TLS)
        c.setopt(pycurl.PIPEWAIT, 1)
        c.setopt(pycurl.WRITEFUNCTION, sink)
        handles.append(c)

    def go(total: int) -> None:
        received[0] = 0
        started = done = 0
        for c in handles[:total]:
            multi.add_handle(c)
            started += 1
        while done < total:
            while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
                pass
            _, ok, failed = multi.info_read()
            if failed:
                raise RuntimeError(f"pycurl failed: {failed[0][2]}")
            for c in ok:
                multi.remove_handle(c)
                done += 1
                if started < total:
                    multi.add_handle(c)
                    started += 1
            if done < total:
                # libcurl's own timeout: 0 when a handle just added needs perform() at once.
                wait = multi.timeout()
                multi.select(1.0 if wait < 0 else min(wait / 1000, 1.0))
        assert received[0] == total * 128

    rate, cpu = _measure(n, go)
    version = handles[0].getinfo(pycurl.INFO_HTTP_VERSION)
    for c in handles:
        c.close()
    multi.close()
    assert version == pycurl.CURL_HTTP_VERSION_2_0, "pycurl did not speak HTTP/2"
    return rate, cpu, 1


def _floor_request(authority: str, path: str) -> bytes:
    """The HPACK block of a GET, without the dynamic table (so one block serves every stream):
    static-table indexes for the method and scheme, the path and authority as literals."""

    def literal(index: int, value: str) -> bytes:  # literal without indexing, indexed name (RFC 7541 6.2.2)
        raw = value.encode()
        assert index < 15 and len(raw) < 127
        return bytes([index, len(raw)]) + raw

    return b"\x82\x87" + literal(4, path) + literal(1, authority)  # :method GET, :scheme https


def floor_async(url: str, ca: str, n: int, loop: str) -> tuple[float, float, int]:
    """A bare asyncio Protocol speaking just enough HTTP/2 (see the module docstring)."""
    import ssl
    import struct
    from urllib.parse import urlsplit  # the bench, not netwire: netwire never uses urllib.parse

    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port or 443
    block = _floor_request(parts.netloc, parts.path)
    head = struct.Struct(">BHBBL")
    frame_head = struct.Struct(">HBBBL")  # length as 16+8 bits, type, flags, stream id
    preface = (
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        # SETTINGS: ENABLE_PUSH 0, INITIAL_WINDOW_SIZE 16 MiB; then the connection window +1 GiB.
        + head.pack(0, 12, 4, 0, 0) + struct.pack(">HIHI", 2, 0, 4, 16 << 20)
        + head.pack(0, 4, 8, 0, 0) + struct.pack(">I", 1 << 30)
    )
    settings_ack = head.pack(0, 0, 4, 1, 0)

    class Floor(asyncio.Protocol):
        def __init__(self, total: int, done: asyncio.Future[None]) -> None:
            self.buf = bytearray()
            self.total = total
            self.started = 0
            self.finished = 0
            self.body = 0  # DATA payload bytes: checked against 128 per response
            self.next_id = 1
            self.done = done
            self.transport: Any = None

        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            transport.write(preface)

        def go(self, total: int, done: asyncio.Future[None]) -> None:
            self.total, self.done, self.started, self.finished, self.body = total, done, 0, 0, 0
            out = [self._request() for _ in range(min(IN_FLIGHT, total))]
            self.transport.write(b"".join(out))

        def _request(self) -> bytes:
            sid = self.next_id
            self.next_id += 2
            self.started += 1
            return head.pack(0, len(block), 1, 0x05, sid) + block  # HEADERS, END_HEADERS|END_STREAM

        def data_received(self, data: bytes) -> None:
            buf = self.buf
            buf += data
            pos, size = 0, len(buf)
            out = []
            while size - pos >= 9:
                high, low, kind, flags, _sid = frame_head.unpack_from(buf, pos)
                length = (high << 8) + low
                if size - pos - 9 < length:
                    break
                pos += 9 + length
                if kind == 0:
                    self.body += length
                if kind == 4 and not flags & 1:
                    out.append(settings_ack)
                elif kind in (0, 1) and flags & 1:  # END_STREAM on DATA or HEADERS
                    self.finished += 1
                    if self.started < self.total:
                        out.append(self._request())
            del buf[:pos]
            if out:
                self.transport.write(b"".join(out))
            if self.finished >= self.total and not self.done.done():
                self.done.set_result(None)

    async def main() -> tuple[float, float, int]:
        context = ssl.create_default_context(cafile=ca)
        context.set_alpn_protocols(["h2"])
        running = asyncio.get_running_loop()
        first: asyncio.Future[None] = running.create_future()
        transport, proto = await running.create_connection(lambda: Floor(0, first), host, port, ssl=context)
        assert transport.get_extra_info("ssl_object").selected_alpn_protocol() == "h2"
        warm: asyncio.Future[None] = running.create_future()
        proto.go(IN_FLIGHT * 5, warm)
        await warm
        gc.collect()
        done: asyncio.Future[None] = running.create_future()
        wall, cpu = time.perf_counter(), time.process_time()
        proto.go(n, done)
        await done
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        transport.close()
        assert proto.body == n * 128, f"expected {n * 128} body bytes, got {proto.body}"
        return n / wall, cpu / n * 1e6, 1

    return _on(loop, main())  # type: ignore[no-any-return]


def big_body(url: str, ca: str, http2: bool, loop: str | None) -> tuple[float, float]:
    """One 64 MiB GET (after a warm-up GET): (MB/s, CPU s)."""
    import netwire
    from netwire.aio import AsyncClient

    if loop is None:
        with netwire.Client(http2=http2, verify=ca) as client:
            client.get(url.replace("big.bin", "small.bin"))
            wall, cpu = time.perf_counter(), time.process_time()
            r = client.get(url)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert len(r.content) == BIG and r.http_version == ("2" if http2 else "1.1")
            return BIG / wall / 1e6, cpu

    async def main() -> tuple[float, float]:
        async with AsyncClient(http2=http2, verify=ca) as client:
            await client.get(url.replace("big.bin", "small.bin"))
            wall, cpu = time.perf_counter(), time.process_time()
            r = await client.get(url)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert len(r.content) == BIG and r.http_version == ("2" if http2 else "1.1")
            return BIG / wall / 1e6, cpu

    return _on(loop, main())  # type: ignore[no-any-return]


def hpack_decoding(rounds: int) -> list[tuple[str, float]]:
    """Microseconds per header block: netwire's HPACK decoder and the ``hpack`` package's, on
    the hpack-test-case stories vendored in tests/http2/data/hpack (requests and responses,
    eight encoders), each story on a fresh decoder as on a new connection."""
    import json

    from netwire.http.hpack import Decoder

    data = Path(__file__).resolve().parent.parent / "tests" / "http2" / "data" / "hpack"
    stories = [
        [(c.get("header_table_size"), bytes.fromhex(c["wire"])) for c in json.loads(p.read_text())["cases"]]
        for p in sorted(data.glob("*/story_*.json"))
    ]
    blocks = sum(map(len, stories))
    makers: list[tuple[str, Callable[[], Any], bool]] = [("netwire.http.hpack", Decoder, False)]
    if _have("hpack"):
        import hpack

        makers.append(("hpack (h2's own)", hpack.Decoder, True))
    out = []
    for name, make, raw in makers:
        best = float("inf")
        for _ in range(rounds):
            start = time.process_time()
            for story in stories:
                decoder = make()
                for size, wire in story:
                    if size is not None:
                        decoder.max_allowed_table_size = size
                    decoder.decode(wire, raw=True) if raw else decoder.decode(wire)
            best = min(best, time.process_time() - start)
        out.append((name, best / blocks * 1e6))
    return out


def run(args: argparse.Namespace) -> list[Row]:
    quick = getattr(args, "quick", False)
    n = 2_000 if quick else REQUESTS
    n_slow = 400 if quick else SLOW_REQUESTS
    rows: list[Row] = []
    loops = ["asyncio"] + (["uvloop"] if _have("uvloop") else [])
    for name, us in hpack_decoding(3 if quick else 10):
        print(f"   HPACK decode {name:34} {us:8.1f} us per header block", file=sys.stderr)
        rows.append({"group": "HPACK decode (per block)", "name": name, "value": us, "unit": "us", "higher": False})
    with h2_nginx() as (base, ca):
        url = base + "/small.bin"
        group = "h2: 20 in flight, 1 conn, 128 B"
        cpu_group = "h2: CPU per GET"
        clients: list[tuple[str, Callable[[], tuple[float, float, int]]]] = []
        # Only the first row's name starts with "netwire": the table's ratios are to that one.
        for loop in loops:
            name = "netwire.AsyncClient (asyncio)" if loop == "asyncio" else f"  same, on {loop}"
            clients.append((name, lambda loop=loop: netwire_async(url, ca, n, loop)))  # type: ignore[misc]
        clients.append(("  netwire's Client, 20 threads", lambda: netwire_threads(url, ca, n)))
        for loop in loops:
            name = f"floor: bare Protocol ({loop})"
            clients.append((name, lambda loop=loop: floor_async(url, ca, n, loop)))  # type: ignore[misc]
        if _have("httpx") and _have("h2"):
            clients.append((f"httpx http2 ({n_slow:,} GETs)", lambda: httpx_async(url, ca, n_slow)))
        if _have("rnet"):
            clients.append(("rnet (Rust), http2_only", lambda: rnet_async(url, ca, n)))
        else:
            print("   (rnet not installed: pip install rnet)", file=sys.stderr)
        if _have("pycurl"):
            clients.append(("pycurl multi, multiplexed", lambda: pycurl_multiplexed(url, ca, n)))
        else:
            print("   (pycurl not installed: pip install pycurl)", file=sys.stderr)
        for name, make in clients:
            rate, cpu, conns = make()
            print(f"   {name:34} {rate:10.0f} req/s {cpu:8.1f} us CPU/req  ({conns} conn)", file=sys.stderr)
            rows.append({"group": group, "name": name, "value": rate, "unit": "req/s", "higher": True})
            rows.append({"group": cpu_group, "name": name, "value": cpu, "unit": "us", "higher": False})
        big = base + "/big.bin"
        for loop in [*loops, None]:
            face = "Client" if loop is None else f"AsyncClient ({loop})"
            group = f"64 MiB GET, {face}"
            for label, http2 in (("netwire HTTP/2", True), ("HTTP/1.1 over TLS", False)):
                mbs, cpu = big_body(big, ca, http2, loop)
                print(f"   {group:34} {label:20} {mbs:8.0f} MB/s  {cpu:6.3f} s CPU", file=sys.stderr)
                rows.append({"group": group, "name": label, "value": mbs, "unit": "MB/s", "higher": True})
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    result = run(parser.parse_args())
    for r in result:
        print(f"{r['group']:34} {r['name']:34} {r['value']:12.1f} {r['unit']}")
