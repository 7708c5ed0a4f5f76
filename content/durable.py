"""Making writes survive a power cut: fsync a file's bytes and a directory's entries.

Every place that lands a file (blobs, synced parts, the hub's repository, backups) writes a
temporary file, fsyncs it, renames it with `os.replace` and then fsyncs the directory, so
that after a power cut the file is either absent or whole.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_file(path: Path) -> None:
    with path.open("rb+") as f:
        os.fsync(f.fileno())


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
