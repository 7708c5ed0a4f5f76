"""Sync measured: apply time and peak memory for N items, big attachments streamed with flat
memory, and the hub's conditional polls per second with many concurrent clients. Each
figure has a baseline taken in the same run, on the same machine, and the ratio to it.

- items: a device's first `juwu sync` of N disclosures, in a child process (its own peak
  RSS); baseline: the same content directory loaded by the local importer (no network, no
  verification) in a child process.
- attachments: a bundle with one attachment of --attachment-mb synced in a child process;
  baseline: the same with --small-mb. Peak RSS must not grow with the size (ratio ~1); the
  time is compared with hashing + copying the file locally.
- polls: --clients threads in a second process send If-None-Match polls of timestamp.json
  (304s) for --seconds; baseline: the same clients on /healthz (a minimal 200).

    .venv/bin/python -m bench.sync_measure [--items 10000] [--attachment-mb 1024]
        [--small-mb 8] [--clients 32] [--seconds 5] [--skip items,attachments,polls]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from bench.search_bench import machine
from bench.sync_bench import mapping
from content.blobs import BlobStore
from content.export import write_content_dir
from tests.sync_support import Hub, content_mapping, publish_dir, running_hub

REPO = Path(__file__).resolve().parent.parent
CHILD_SYNC = """
import json, resource, time
import content.sync.client as client
from content.config import load_config
from content.db import open_cache
marks = {}
client._checkpoint = lambda name: marks.__setitem__(name, time.perf_counter())
def peak_mb():
    # VmHWM: this process image's peak RSS. ru_maxrss is not used: Linux carries the
    # parent's peak across fork+exec into it.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
config = load_config()
cache = open_cache(config.database_path)
rss0 = peak_mb()
t0 = time.perf_counter()
out = client.sync(config, cache)
t1 = time.perf_counter()
print(json.dumps({"status": out.status.value, "message": out.message[:300], "total_s": t1 - t0,
                  "fetch_s": marks.get("staged", t1) - t0,
                  "apply_s": marks.get("committed", t1) - marks.get("staged", t0),
                  "rss0_mb": rss0,
                  "rss_mb": peak_mb(),
                  "body_bytes": out.body_bytes}))
"""
CHILD_IMPORT = """
import json, resource, sys, time
from pathlib import Path
from content.config import load_config
from content.db import open_cache, unit_of_work
from content.importer import import_content, read_content_dir
def peak_mb():
    # VmHWM: this process image's peak RSS. ru_maxrss is not used: Linux carries the
    # parent's peak across fork+exec into it.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
config = load_config()
cache = open_cache(config.database_path)
rss0 = peak_mb()
t0 = time.perf_counter()
raw = read_content_dir(Path(sys.argv[1]))
with unit_of_work(cache) as session:
    import_content(session, raw, config, actor="bench")
t1 = time.perf_counter()
print(json.dumps({"total_s": t1 - t0, "rss0_mb": rss0,
                  "rss_mb": peak_mb()}))
"""
CHILD_POLL = """
import json, sys, threading, time
import requests
url, etag, clients, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
want = 304 if etag else 200
ok = [0] * clients
bad = [0] * clients
start = threading.Barrier(clients + 1)
def worker(i):
    s = requests.Session()
    headers = {"If-None-Match": etag} if etag else {}
    start.wait()
    while time.perf_counter() < deadline:
        r = s.get(url, headers=headers, timeout=30)
        if r.status_code == want:
            ok[i] += 1
        else:
            bad[i] += 1
threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
for t in threads:
    t.start()
deadline = time.perf_counter() + seconds
t0 = time.perf_counter()
start.wait()
for t in threads:
    t.join()
elapsed = time.perf_counter() - t0
print(json.dumps({"ok": sum(ok), "bad": sum(bad), "seconds": elapsed}))
"""


def _child(code: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=3600, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"child failed ({out.returncode}): {out.stderr[-2000:]}")
    data: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def _device_env(hub: Hub, data_dir: Path) -> dict[str, str]:
    return {**os.environ, "JUWU_PATHS__DATA_DIR": str(data_dir), "JUWU_SYNC__HUB_URL": hub.url,
            "JUWU_SYNC__TRUSTED_ROOT": str(hub.keys.root_json),
            "JUWU_SYNC__DOWNLOAD_DEADLINE_S": "3600"}


def _sparse_pdf(path: Path, size: int) -> None:
    """An attachment of `size` bytes, written in 1 MiB chunks (never whole in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = b"%PDF-1.4\n" + os.urandom((1 << 20) - 9)
    with path.open("wb") as f:
        left = size
        while left > 0:
            piece = block[:left]
            f.write(piece)
            left -= len(piece)
            block = hashlib.sha256(block[:32]).digest() + block[32:]  # no two blocks alike


def _attachment_dir(directory: Path, size: int) -> Path:
    m = content_mapping(2)
    _sparse_pdf(directory / "attachments" / "plan.pdf", size)
    m["disclosure"][0]["attachments"] = [{"path": "attachments/plan.pdf", "name": "方案.pdf",
                                          "media_type": "application/pdf"}]
    write_content_dir(m, directory)
    return directory


def measure_items(work: Path, items: int) -> dict[str, Any]:
    with running_hub(work / "hub-items") as hub:
        content = work / "items"
        write_content_dir(mapping(items, 0), content)
        publish_dir(hub, content)
        synced = _child(CHILD_SYNC, _device_env(hub, work / "dev-items"))
        base = _child(CHILD_IMPORT, _device_env(hub, work / "dev-import"), str(content))
    return {"items": items, "sync": synced, "import": base}


def measure_attachments(work: Path, small_mb: float, big_mb: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, mb in (("small", small_mb), ("big", big_mb)):
        size = int(mb * (1 << 20))
        d = work / f"att-{label}"
        with running_hub(d / "hub", {"JUWU_HUB__MAX_UPLOAD_BYTES": str(size + (1 << 20))}) \
                as hub:
            content = _attachment_dir(d / "content", size)
            t0 = time.perf_counter()
            publish_dir(hub, content)
            publish_s = time.perf_counter() - t0
            synced = _child(CHILD_SYNC, _device_env(hub, d / "device"))
        t0 = time.perf_counter()
        BlobStore(d / "copy").put_file(content / "attachments" / "plan.pdf")  # hash + copy
        copy_s = time.perf_counter() - t0
        out[label] = {"bytes": size, "publish_s": publish_s, "sync": synced, "copy_s": copy_s}
        shutil.rmtree(d, ignore_errors=True)  # a GB on disk is enough at a time
    return out


def measure_polls(work: Path, clients: int, seconds: float) -> dict[str, Any]:
    with running_hub(work / "hub-polls") as hub:
        publish_dir(hub, _attachment_dir(work / "poll-content", 1024))
        ts = requests.get(f"{hub.url}/tuf/metadata/timestamp.json", timeout=10)
        etag = ts.headers["ETag"]
        env = dict(os.environ)
        polls = _child(CHILD_POLL, env, f"{hub.url}/tuf/metadata/timestamp.json", etag,
                       str(clients), str(seconds))
        health = _child(CHILD_POLL, env, f"{hub.url}/healthz", "", str(clients), str(seconds))
    return {"clients": clients, "polls": polls, "healthz": health}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--attachment-mb", type=float, default=1024.0)
    parser.add_argument("--small-mb", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--skip", default="", help="comma-separated: items,attachments,polls")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "items" not in skip:
            r = measure_items(work, args.items)
            s, b = r["sync"], r["import"]
            print(f"items: first sync of {r['items']} disclosures ({s['status']}): "
                  f"{s['total_s']:.2f} s (fetch+verify {s['fetch_s']:.2f} s, apply "
                  f"{s['apply_s']:.2f} s), peak RSS {s['rss_mb']:.0f} MB "
                  f"(after imports {s['rss0_mb']:.0f} MB), {s['body_bytes']} body bytes")
            print(f"  baseline, local import of the same directory: {b['total_s']:.2f} s, peak "
                  f"RSS {b['rss_mb']:.0f} MB; ratio sync/import: time "
                  f"{s['total_s'] / b['total_s']:.2f}, apply only "
                  f"{s['apply_s'] / b['total_s']:.2f}, RSS {s['rss_mb'] / b['rss_mb']:.2f}")
        if "attachments" not in skip:
            a = measure_attachments(work, args.small_mb, args.attachment_mb)
            for label in ("small", "big"):
                x = a[label]
                s = x["sync"]
                print(f"attachment {x['bytes'] / (1 << 20):.0f} MiB ({s['status']}): publish "
                      f"{x['publish_s']:.1f} s; sync {s['total_s']:.1f} s "
                      f"({x['bytes'] / (1 << 20) / s['total_s']:.0f} MiB/s), peak RSS "
                      f"{s['rss_mb']:.0f} MB; baseline hash+copy {x['copy_s']:.2f} s, ratio "
                      f"{s['total_s'] / x['copy_s']:.2f}")
            ratio = a["big"]["sync"]["rss_mb"] / a["small"]["sync"]["rss_mb"]
            print(f"  peak RSS big/small: {ratio:.2f} for "
                  f"{a['big']['bytes'] / a['small']['bytes']:.0f}x the bytes "
                  f"({'flat' if ratio < 1.2 else 'NOT flat'})")
        if "polls" not in skip:
            p = measure_polls(work, args.clients, args.seconds)
            pr = p["polls"]["ok"] / p["polls"]["seconds"]
            hr = p["healthz"]["ok"] / p["healthz"]["seconds"]
            print(f"polls: {p['clients']} concurrent clients (threads, second process), "
                  f"{args.seconds:.0f} s: {pr:.0f} conditional polls/s (304), "
                  f"{p['polls']['bad']} other answers; baseline /healthz {hr:.0f} req/s; "
                  f"ratio {pr / hr:.2f}")


if __name__ == "__main__":
    main()
