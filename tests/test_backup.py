from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from content.backup import backup_database, check_backup, restore_database
from content.blobs import BlobStore
from content.config import Config
from content.db import Cache, open_cache
from content.errors import CacheError
from content.models import Disclosure, SyncState
from content.sync.client import SyncStatus
from tests.conftest import disclosure, load
from tests.sync_support import Device, Hub, content_mapping, publish_dir, write_content
from tests.test_cli import run


def count(path: Path) -> int:
    cache = open_cache(path)
    with cache.sessions() as s:
        n = s.scalar(select(func.count()).select_from(Disclosure)) or 0
    cache.close()
    return n


def test_backup_while_writing_is_consistent(loaded: Cache, tmp_path: Path) -> None:
    stop = threading.Event()
    written = 0

    def writer() -> None:
        nonlocal written
        while not stop.is_set():
            with loaded.sessions.begin() as s:
                s.merge(SyncState(key=f"k{written % 50}", value="x" * 2000))
            written += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        results = [backup_database(loaded.path, tmp_path / "b", label=f"c{i}") for i in range(3)]
    finally:
        stop.set()
        thread.join()
    assert written > 0
    for r in results:
        check_backup(r.database)
        assert count(r.database) == 6


def test_uncommitted_writes_are_not_in_the_backup(loaded: Cache, tmp_path: Path) -> None:
    raw = sqlite3.connect(loaded.path, isolation_level=None)
    raw.execute("BEGIN IMMEDIATE")
    raw.execute("DELETE FROM sign_off")
    try:
        result = backup_database(loaded.path, tmp_path)
    finally:
        raw.execute("ROLLBACK")
        raw.close()
    conn = sqlite3.connect(result.database)
    assert conn.execute("SELECT count(*) FROM sign_off").fetchone()[0] == 24
    conn.close()


def test_restore_brings_back_content_and_blobs_and_keeps_the_current_file(
        loaded: Cache, config: Config, tmp_path: Path) -> None:
    attachment = tmp_path / "a.txt"
    attachment.write_text("公示附件", encoding="utf-8")
    sha, _ = BlobStore(config.blob_dir).put_file(attachment)
    result = backup_database(loaded.path, tmp_path / "backups", files=config.blob_dir,
                             now=dt.datetime(2026, 12, 1, 8))
    assert result.files_copied == 1
    load(loaded, config, {"disclosure": [disclosure("later", "后来发布", "正文",
                                                    dt.date(2026, 6, 12))]})
    loaded.close()
    BlobStore(config.blob_dir).path_for(sha).unlink()
    kept = restore_database(result.database, config.database_path, files=config.blob_dir,
                            now=dt.datetime(2026, 12, 2, 8))
    assert kept is not None and count(kept) == 7  # nothing lost: the newer file is kept
    assert count(config.database_path) == 6
    assert BlobStore(config.blob_dir).has(sha)


def test_damaged_or_foreign_backup_changes_nothing(loaded: Cache, tmp_path: Path) -> None:
    before = count(loaded.path)
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database" * 100)
    with pytest.raises(CacheError, match="not a usable backup"):
        restore_database(bad, loaded.path)
    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(CacheError, match="not a juwu cache backup"):
        restore_database(foreign, loaded.path)
    with pytest.raises(CacheError, match="no such backup"):
        restore_database(tmp_path / "missing.sqlite3", loaded.path)
    assert count(loaded.path) == before


def test_backup_and_restore_commands(tmp_path: Path, config: Config, loaded: Cache) -> None:
    data = config.data_dir
    loaded.close()
    made = run(data, "backup", "--json")
    assert made.returncode == 0, made.stderr
    path = Path(json.loads(made.stdout)["database"])
    assert path.parent == data / "backups"
    restored = run(data, "restore", str(path))
    assert restored.returncode == 0 and "previous database is kept as" in restored.stdout
    assert run(data, "stats", "--json").returncode == 0
    hub_db = data / "hub" / "hub.sqlite3"
    hub_db.parent.mkdir(parents=True)
    with sqlite3.connect(hub_db) as conn:
        conn.execute("CREATE TABLE hub_feedback (k TEXT)")
    hub = run(data, "backup", "--hub", "--json")
    assert hub.returncode == 0, hub.stderr
    assert Path(json.loads(hub.stdout)["database"]).name.startswith("hub-")
    missing = run(tmp_path / "empty", "backup")
    assert missing.returncode == 1 and "no database to back up" in missing.stderr


def test_hub_restore_does_not_roll_devices_back(tmp_path: Path, hub: Hub, dev: Device) -> None:
    """A device syncs; the hub is backed up, publishes more (its versions advance) and the
    device syncs that; then `juwu restore --hub` puts the backup back. The device still
    accepts the hub: snapshot and timestamp are signed above every version published
    before. Published content does not go back: the hub keeps serving its newest targets
    (a device would refuse older ones), and the next publication follows on from them."""
    env = {"JUWU_HUB__DATA_DIR": str(hub.data_dir)}
    admin = tmp_path / "admin"
    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(2)))
    assert dev.sync().status is SyncStatus.UPDATED
    made = run(admin, "backup", "--hub", "--json", env=env)
    assert made.returncode == 0, made.stderr
    backup = Path(json.loads(made.stdout)["database"])
    publish_dir(hub, write_content(tmp_path / "c2", content_mapping(3)))
    assert hub.repo.refresh_online(dt.datetime.now(dt.UTC) + dt.timedelta(hours=20))
    assert dev.sync().status is SyncStatus.UPDATED
    before = hub.repo.status()
    assert before.timestamp_version > 2

    restored = run(admin, "restore", "--hub", "--json", str(backup), env=env)
    assert restored.returncode == 0, restored.stderr
    outcome = dev.sync()  # not "New timestamp version 1 must be >= 3"
    assert outcome.status is SyncStatus.UNCHANGED and outcome.version == 2, outcome
    with dev.cache.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Disclosure)) == 3
    after = hub.repo.status()
    assert after.timestamp_version > before.timestamp_version
    assert after.snapshot_version > before.snapshot_version
    assert after.targets_version == before.targets_version == 2
    assert json.loads(restored.stdout)["timestamp_version"] == after.timestamp_version

    publish_dir(hub, write_content(tmp_path / "c3", content_mapping(4)))
    outcome = dev.sync()
    assert outcome.status is SyncStatus.UPDATED and outcome.version == 3, outcome


def test_hub_restore_without_the_online_keys_changes_nothing(tmp_path: Path, hub: Hub) -> None:
    env = {"JUWU_HUB__DATA_DIR": str(hub.data_dir)}
    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(1)))
    made = run(tmp_path / "admin", "backup", "--hub", "--json", env=env)
    backup = Path(json.loads(made.stdout)["database"])
    (hub.data_dir / "keys" / "timestamp.pem").unlink()
    before = (hub.repo_dir / "metadata" / "timestamp.json").read_bytes()
    restored = run(tmp_path / "admin", "restore", "--hub", str(backup), env=env)
    assert restored.returncode == 1
    assert "timestamp.pem: no such key file" in restored.stderr
    assert "nothing was changed" in restored.stderr
    assert (hub.repo_dir / "metadata" / "timestamp.json").read_bytes() == before
    assert not list(hub.data_dir.glob("hub.sqlite3.*.bak"))
