"""AsyncClient runs on whatever asyncio loop is running: the stock one, uvloop (the ``speed``
extra) or a loop class of the caller's own; it never makes or looks up a loop of its own."""

from __future__ import annotations

import asyncio
import pathlib
import sys
import tomllib
from typing import Any

import pytest

import netwire
from tests.servers.nginx import AIO_SMALL


async def _get_on_running_loop(url: str) -> tuple[asyncio.AbstractEventLoop, asyncio.AbstractEventLoop, bytes]:
    """One streamed GET: the running loop, the loop the connection was built on, the body."""
    async with netwire.AsyncClient() as client, client.stream("GET", url) as r:
        conn = r._abody._conn  # taken before the body is read: then it goes back to the pool
        assert conn is not None
        body = await r.aread()
        return asyncio.get_running_loop(), conn.loop, body


def test_async_client_runs_on_uvloop(aio_nginx: Any) -> None:
    uvloop = pytest.importorskip("uvloop")
    running, used, body = uvloop.run(_get_on_running_loop(aio_nginx.url("/small")))
    assert isinstance(running, uvloop.Loop)
    assert used is running
    assert body == AIO_SMALL


class _CountingLoop(asyncio.SelectorEventLoop):
    """A loop class of a caller's own, counting the connections made through it."""

    connections = 0

    async def create_connection(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        type(self).connections += 1
        return await super().create_connection(*args, **kwargs)


def test_async_client_uses_the_running_loop_whatever_its_class(aio_nginx: Any) -> None:
    _CountingLoop.connections = 0
    with asyncio.Runner(loop_factory=_CountingLoop) as runner:
        running, used, body = runner.run(_get_on_running_loop(aio_nginx.url("/small")))
    assert type(running) is _CountingLoop and used is running
    assert _CountingLoop.connections >= 1  # the connection went through the caller's loop
    assert body == AIO_SMALL


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop has no Windows build")
def test_speed_extra_brings_uvloop() -> None:
    pyproject = tomllib.loads((pathlib.Path(__file__).parents[2] / "pyproject.toml").read_text())
    speed = pyproject["project"]["optional-dependencies"]["speed"]
    assert any(req.startswith("uvloop") for req in speed)
