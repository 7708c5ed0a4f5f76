"""Consistent backups of a running cache (or hub database) and a checked restore.

SQLite's online backup API copies a database page by page while other connections keep
reading and writing (WAL), so a kiosk never stops for a backup. Attachment blobs and the
hub's repository files are immutable or replaced atomically, so copying the ones that are
missing is enough. A restore checks the backup first (opens, passes `quick_check`, is a juwu
file), keeps the current database as a `.bak` file, and moves the backup in atomically:
nothing is lost either way (shared/domain.md: everything is archived long-term).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from content.db import APPLICATION_ID
from content.durable import fsync_file
from content.errors import CacheError


@dataclass(frozen=True)
class BackupResult:
    database: Path
    size_bytes: int
    files_copied: int


def backup_database(source: Path, dest_dir: Path, *, label: str = "cache",
                    files: Path | None = None, now: dt.datetime | None = None) -> BackupResult:
    """Copy the live database `source` into `dest_dir`, plus missing files under `files`.

    Raises:
        CacheError: the source is missing or damaged, or the destination cannot be written.
    """
    if not source.is_file():
        raise CacheError(f"{source}: no database to back up")
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / f"{label}-{stamp}.sqlite3"
    fd, tmp_name = tempfile.mkstemp(dir=dest_dir, prefix=f".{label}-", suffix=".partial")
    os.close(fd)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(tmp_name)
        try:
            src.backup(dst, pages=1024)
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            dst.close()
            src.close()
        fsync_file(Path(tmp_name))
        os.replace(tmp_name, target)
    except sqlite3.DatabaseError as e:
        raise CacheError(f"backup of {source} failed: {e}; nothing was written") from e
    except OSError as e:
        raise CacheError(f"backup to {dest_dir} failed: {e}; nothing was written") from e
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    copied = copy_missing(files, dest_dir / f"{label}-files") if files else 0
    return BackupResult(target, target.stat().st_size, copied)


def check_backup(path: Path, *, require_juwu: bool = True) -> None:
    """Raises CacheError unless `path` is an intact SQLite database (of juwu's)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = [r[0] for r in conn.execute("PRAGMA quick_check")]
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise CacheError(f"{path} is not a usable backup ({e}); nothing was changed") from e
    if result != ["ok"]:
        raise CacheError(f"{path} is damaged ({'; '.join(result[:3])}); nothing was changed")
    if require_juwu and app_id != APPLICATION_ID:
        raise CacheError(f"{path} is not a juwu cache backup; nothing was changed")


def restore_database(backup: Path, target: Path, *, require_juwu: bool = True,
                     files: Path | None = None, now: dt.datetime | None = None) -> Path | None:
    """Put `backup` in place of `target`; returns where the previous database was kept.

    Stop the programs that use `target` first (the kiosk, `juwu board run`, the hub).

    Raises:
        CacheError: the backup is missing, damaged or not juwu's (nothing changed).
    """
    if not backup.is_file():
        raise CacheError(f"{backup}: no such backup file")
    check_backup(backup, require_juwu=require_juwu)
    target.parent.mkdir(parents=True, exist_ok=True)
    kept: Path | None = None
    if target.exists():
        stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
        kept = target.with_name(f"{target.name}.{stamp}.bak")
        for suffix in ("", "-wal", "-shm"):
            old = Path(f"{target}{suffix}")
            if old.exists():
                os.replace(old, Path(f"{kept}{suffix}"))
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".restore-")
    os.close(fd)
    try:
        shutil.copyfile(backup, tmp_name)
        fsync_file(Path(tmp_name))
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    if files is not None:
        copy_missing(saved_files_dir(backup), files)
    return kept


def saved_files_dir(backup: Path) -> Path:
    """Where `backup_database` put the files that go with `backup` (`<label>-files/`)."""
    return backup.with_name(backup.name.rsplit("-", 2)[0] + "-files")


def copy_missing(source: Path, dest: Path, *, skip: frozenset[Path] = frozenset()) -> int:
    """Copy files under `source` that `dest` lacks or has in another version, except the
    paths (relative to `source`) in `skip`.

    Blobs never change once written; the hub's metadata files are replaced whole, so size
    and modification time tell a changed one.
    """
    copied = 0
    if not source.is_dir():
        return 0
    for path in source.rglob("*"):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.relative_to(source) in skip:
            continue
        out = dest / path.relative_to(source)
        have, want = (out.stat() if out.exists() else None), path.stat()
        if have and (have.st_size, have.st_mtime_ns) == (want.st_size, want.st_mtime_ns):
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.partial")
        shutil.copy2(path, tmp)
        fsync_file(tmp)
        os.replace(tmp, out)
        copied += 1
    return copied

