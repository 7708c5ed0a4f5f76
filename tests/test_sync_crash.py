"""Power cut during sync: a `juwu sync` process killed (SIGKILL) at each named instant of
the apply and at random instants leaves the old content or the new, never a mix; the next
sync finishes the job."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from content.db import open_cache
from content.models import Disclosure
from content.sync.client import SyncStatus, read_state
from tests.sync_support import (
    content_mapping,
    device,
    device_config,
    publish_dir,
    running_hub,
    write_content,
)

REPO = Path(__file__).resolve().parent.parent
CHILD = """
import os, signal, sys
import content.sync.client as client
from content.cli import main
point = sys.argv[1]
def checkpoint(name):
    if name == point:
        os.kill(os.getpid(), signal.SIGKILL)
client._checkpoint = checkpoint
sys.exit(main(["sync", "--no-outbox"]))
"""


def snapshot(db: Path) -> tuple[str, frozenset[str]]:
    cache = open_cache(db)
    try:
        with cache.sessions() as s:
            return (read_state(s).get("version", "0"),
                    frozenset(s.scalars(select(Disclosure.uid))))
    finally:
        cache.close()


@pytest.mark.slow
def test_kill_during_sync_leaves_old_or_new(tmp_path: Path) -> None:
    rng = random.Random(4)
    with running_hub(tmp_path) as hub:
        publish_dir(hub, write_content(tmp_path / "c1", content_mapping(2),
                                       attachment=b"%PDF old"))
        with device(tmp_path, hub) as dev:
            assert dev.sync().status is SyncStatus.UPDATED
        config = device_config(tmp_path, hub)
        old = snapshot(config.database_path)
        publish_dir(hub, write_content(tmp_path / "c2", content_mapping(40),
                                       attachment=b"%PDF new" * 5000))
        env = {**os.environ, "JUWU_PATHS__DATA_DIR": str(config.data_dir),
               "JUWU_SYNC__HUB_URL": hub.url,
               "JUWU_SYNC__TRUSTED_ROOT": str(hub.keys.root_json)}
        backup = tmp_path / "device-before"
        shutil.copytree(config.data_dir, backup)
        seen: list[str] = []
        points = ["staged", "before-commit", "committed"] + ["random"] * 5
        for point in points:
            shutil.rmtree(config.data_dir)  # every kill starts from the old content
            shutil.copytree(backup, config.data_dir)
            proc = subprocess.Popen([sys.executable, "-c", CHILD, point], cwd=REPO, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if point == "random":
                try:  # a SIGKILL somewhere in the child's run (start-up, fetch, apply)
                    proc.wait(timeout=rng.uniform(0.2, 1.5))
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
            state = snapshot(config.database_path)
            if point != "random":
                assert proc.returncode == -signal.SIGKILL
            if state != old:
                assert state[0] == "2" and len(state[1]) == 40, state  # new, whole
            seen.append("old" if state == old else "new")
        with device(tmp_path, hub) as dev:
            outcome = dev.sync()
            assert outcome.status in (SyncStatus.UPDATED, SyncStatus.UNCHANGED)
        final = snapshot(config.database_path)
        assert final[0] == "2" and len(final[1]) == 40
        assert seen[:3] == ["old", "old", "new"]  # before the commit: old; after: new
        assert not list((config.data_dir / "blobs").rglob(".incoming-*"))
