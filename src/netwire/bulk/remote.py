"""Output to an fsspec URL (``s3://bucket/crawl/``, ``gs://...``, ``memory://``, ``file://``...).

WARC files are appended to while a shard runs and cut back when it resumes: an object store can
do neither. So a shard works in a local *staging* folder exactly as it does for a local output
(same files, same crash safety), and the output URL receives finished files:

* a WARC file when it is rotated (closed for good), and at the end of the shard's run every WARC
  file it wrote, then its index: the index on the store never claims a record whose WARC file is
  not there yet;
* with ``--format files``, the bodies written (their names are spooled to a file in the staging
  folder, not held in memory), at the end of the run;
* the manifest at the start, ``summary.json`` at the end.

Resuming on the same machine continues from the staging folder. A shard whose staging folder is
missing (another machine, a Ray task run elsewhere) first downloads its index and WARC files
from the store, recovers them as usual, and removes from the store the WARC files the recovery
dropped. The staging folder is ``$TMPDIR/netwire-fetch-staging/<hash of the URL>`` unless
``staging`` says otherwise.

fsspec is imported only for such an output (``pip install fsspec`` plus the store's own package,
such as ``s3fs``); nothing else in netwire needs it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["Remote", "is_url", "staging_dir"]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(out: str) -> bool:
    """Whether ``out`` names an fsspec location (``scheme://...``) rather than a local folder."""
    return bool(_URL.match(out))


def staging_dir(url: str, base: str | None = None) -> str:
    """The local folder where the shards of the output ``url`` are written before they are sent."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return os.path.join(base or os.path.join(tempfile.gettempdir(), "netwire-fetch-staging"), digest)


class Remote:
    """The output URL, through fsspec: a few whole-file operations, nothing appended in place."""

    def __init__(self, url: str) -> None:
        try:
            import fsspec  # type: ignore[import-untyped,import-not-found,unused-ignore]
        except ImportError:
            raise ImportError(f"writing to {url} needs fsspec: pip install fsspec (and the store's package)") from None
        fs, root = fsspec.core.url_to_fs(url)
        self.url = url
        self.fs: Any = fs
        self.root = str(root).rstrip("/")
        self.fs.makedirs(self.root, exist_ok=True)

    def path(self, name: str) -> str:
        return f"{self.root}/{name}"

    def read_text(self, name: str) -> str | None:
        """The text of ``name``, or None when there is no such file."""
        try:
            with self.fs.open(self.path(name), "rb") as f:
                data: bytes = f.read()
        except FileNotFoundError:
            return None
        return data.decode("utf-8")

    def open_lines(self, name: str) -> Iterator[bytes]:
        """The lines of ``name`` as they are read (none when there is no such file)."""
        try:
            f = self.fs.open(self.path(name), "rb")
        except FileNotFoundError:
            return
        with f:
            yield from f

    def write_bytes(self, name: str, data: bytes) -> None:
        self.fs.pipe_file(self.path(name), data)

    def put(self, local_dir: str, names: Iterable[str]) -> None:
        """Send the files ``names`` (relative to ``local_dir``), each replacing what was there."""
        for name in names:
            target = self.path(name)
            parent = target.rsplit("/", 1)[0]
            if parent != self.root:
                self.fs.makedirs(parent, exist_ok=True)
            self.fs.put_file(os.path.join(local_dir, name), target)

    def names(self, pattern: str) -> list[str]:
        """Names (relative to the root) of the files matching the glob ``pattern``."""
        return sorted(str(p).rsplit("/", 1)[-1] for p in self.fs.glob(self.path(pattern)))

    def pull(self, local_dir: str, names: Iterable[str]) -> None:
        for name in names:
            self.fs.get_file(self.path(name), os.path.join(local_dir, name))

    def remove(self, names: Iterable[str]) -> None:
        for name in names:
            self.fs.rm_file(self.path(name))
