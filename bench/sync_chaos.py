"""Sync chaos: a `juwu sync` process SIGKILLed at N random instants between start and end
(download, verification, staging, the commit, garbage collection); after each kill the
cache must hold the old content or the new, never a mix, and the next sync must finish the
job. Runs a real hub on 127.0.0.1. Every kill starts from a copy of the old device.

    .venv/bin/python -m bench.sync_chaos [--kills 50] [--items 200] [--attachment-mb 4]

tests/test_sync_crash.py kills at each named instant and a few random ones.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.search_bench import machine
from content.sync.client import SyncStatus
from tests.sync_support import (
    content_mapping,
    device,
    device_config,
    publish_dir,
    running_hub,
    write_content,
)
from tests.test_sync_crash import snapshot

REPO = Path(__file__).resolve().parent.parent
CHILD = """
import sys
from content.cli import main
print("ready", flush=True)
sys.exit(main(["sync", "--no-outbox"]))
"""


@dataclass
class SyncChaosResult:
    kills: int
    sync_s: float = 0.0  # one unkilled sync, measured first: the window kills land in
    states: Counter[str] = field(default_factory=Counter)  # old / new / neither
    finished_before_kill: int = 0
    recovery_failures: int = 0  # the next sync did not reach the new content
    seconds: float = 0.0


def run_chaos(work: Path, *, kills: int = 50, items: int = 200, attachment_bytes: int = 4 << 20,
              seed: int = 4) -> SyncChaosResult:
    rng = random.Random(seed)
    result = SyncChaosResult(kills)
    t0 = time.perf_counter()
    with running_hub(work) as hub:
        publish_dir(hub, write_content(work / "c1", content_mapping(2), attachment=b"%PDF old"))
        with device(work, hub) as dev:
            assert dev.sync().status is SyncStatus.UPDATED
        config = device_config(work, hub)
        old = snapshot(config.database_path)
        big = (b"%PDF new" + os.urandom(64)) * (attachment_bytes // 72 + 1)
        publish_dir(hub, write_content(work / "c2", content_mapping(items),
                                       attachment=big[:attachment_bytes]))
        env = {**os.environ, "JUWU_PATHS__DATA_DIR": str(config.data_dir),
               "JUWU_SYNC__HUB_URL": hub.url,
               "JUWU_SYNC__TRUSTED_ROOT": str(hub.keys.root_json)}
        backup = work / "device-before"
        shutil.copytree(config.data_dir, backup)

        def child() -> subprocess.Popen[str]:
            shutil.rmtree(config.data_dir)
            shutil.copytree(backup, config.data_dir)
            proc = subprocess.Popen([sys.executable, "-c", CHILD], cwd=REPO, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    text=True)
            assert proc.stdout is not None
            proc.stdout.readline()  # imports done: the kill lands in the sync itself
            return proc

        proc = child()
        start = time.perf_counter()
        proc.wait(timeout=600)
        result.sync_s = time.perf_counter() - start
        assert proc.stdout is not None
        proc.stdout.close()
        new = snapshot(config.database_path)
        assert new != old, "the unkilled sync did not apply the new content"
        for _ in range(kills):
            proc = child()
            try:
                proc.wait(timeout=rng.uniform(0.0, result.sync_s))
                result.finished_before_kill += 1
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=600)
            assert proc.stdout is not None
            proc.stdout.close()
            state = snapshot(config.database_path)
            result.states["old" if state == old else "new" if state == new else "neither"] += 1
            with device(work, hub) as dev:
                dev.sync()
            if snapshot(config.database_path) != new:
                result.recovery_failures += 1
    result.seconds = time.perf_counter() - t0
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--items", type=int, default=200, help="disclosures in the new bundle")
    parser.add_argument("--attachment-mb", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = run_chaos(Path(tmp), kills=args.kills, items=args.items,
                      attachment_bytes=int(args.attachment_mb * (1 << 20)), seed=args.seed)
    print(f"machine: {machine()}")
    print(f"parameters: {r.kills} kills, {args.items} items + a {args.attachment_mb} MB "
          f"attachment in the new bundle, seed {args.seed}; one sync takes {r.sync_s:.2f} s "
          "(kills land uniformly in 0..that)")
    print(f"after a kill: old {r.states['old']}, new {r.states['new']}, "
          f"neither {r.states['neither']} (must be 0); runs that finished before their kill "
          f"{r.finished_before_kill}; next sync failed to finish {r.recovery_failures} "
          f"(must be 0); {r.seconds:.1f} s")
    if r.states["neither"] or r.recovery_failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
