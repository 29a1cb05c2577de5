"""Timing for tests that assert how cost grows ("linear, not quadratic") on a busy machine.

Wall time is the wrong clock there: CI runs the suite on two cores shared with other jobs (and with
pytest-xdist's other worker), so a sample can lose the core for tens of milliseconds. What these
tests claim is about the work the code does, so they measure :func:`time.thread_time` (CPU seconds
of the calling thread: other processes, and this process's server threads, do not count), with the
cyclic collector paused (a gen-2 pass over earlier tests' garbage would land in one random sample),
the calls interleaved (whatever slows one slows the others alike) and the best of several runs kept.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")

__all__ = ["best_cpu_times", "wait_until"]


def best_cpu_times(*calls: Callable[[], object], repeat: int = 5) -> list[float]:
    """The best of ``repeat`` CPU-time samples of each call (seconds, in the order given).

    The calls run interleaved (``a b c a b c ...``), on this thread, with the garbage collector
    paused (it is collected once first, so the pause does not start with a full heap).
    """
    best = [float("inf")] * len(calls)
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeat):
            for i, call in enumerate(calls):
                started = time.thread_time()
                call()
                best[i] = min(best[i], time.thread_time() - started)
    finally:
        gc.enable()
    return best


def wait_until(check: Callable[[], _T], timeout: float = 10.0, interval: float = 0.01) -> _T:
    """Poll ``check()`` until it returns something true, and return that; after ``timeout``
    seconds, return its last (false) value for the caller's assertion to show.

    Instead of "sleep a little, then assert": a busy machine may need longer than the little,
    and an idle one returns as soon as the condition holds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
