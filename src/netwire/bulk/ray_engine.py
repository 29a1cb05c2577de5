"""The Ray engine: the same shard workers as Ray tasks on a Ray cluster (``netwire[ray]``).

Each shard is one Ray task running :func:`netwire.bulk.run._run_one_shard`, exactly what a local
worker process runs: it reads the input (a path every node sees), takes its share of the hosts,
and writes its index and WARC files into the output folder (a directory every node sees, such as
an NFS mount). Nothing is scheduled here beyond handing out the shards; a task that dies is run
again by Ray, and since a shard resumes from its own files, the retry continues where the dead
task stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .options import BulkOptions

__all__ = ["run_on_ray"]

#: Ray runs a shard's task again this many times when its worker dies (each run resumes the shard).
TASK_RETRIES = 3


def _shard_task(
    shard: int, shards: int, source: str, url_column: str | None, input_format: str | None, out: str,
    options: BulkOptions,
) -> dict[str, Any]:
    from .run import _run_one_shard

    return _run_one_shard(shard, shards, source, url_column, input_format, out, options, None)


def run_on_ray(
    source: str, url_column: str | None, input_format: str | None, out: str, options: BulkOptions, shards: int,
    *, address: str | None, on_done: Callable[[int, dict[str, Any]], None],
) -> int:
    """Run every shard as a Ray task; the number of records fetched.

    :param address: a Ray cluster (``"auto"``, ``"ray://host:10001"``...); None starts or joins
        the one ``ray.init()`` finds.
    :raises ImportError: Ray is not installed (``pip install 'netwire[ray]'``).
    """
    try:
        import ray
    except ImportError:
        raise ImportError("the Ray engine needs Ray: pip install 'netwire[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    task = ray.remote(num_cpus=1, max_retries=TASK_RETRIES)(_shard_task)
    pending = {
        task.remote(shard, shards, source, url_column, input_format, out, options): shard for shard in range(shards)
    }
    fetched = 0
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
        for ref in ready:
            shard = pending.pop(ref)
            stats = ray.get(ref)  # a task's own exception is raised here, with its traceback
            fetched += int(stats["done"])
            on_done(shard, stats)
        if not ready:
            time.sleep(0)  # nothing finished yet
    return fetched
