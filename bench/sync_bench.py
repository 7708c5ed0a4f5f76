"""Sync figures: a no-change poll (requests, body bytes) and the delta when 1% of 10,000
items change (bytes moved / full bundle). Runs a real hub on 127.0.0.1.

    .venv/bin/python -m bench.sync_bench [--items 10000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.conftest import disclosure
from tests.sync_support import device, publish_dir, running_hub, write_content


def mapping(n: int, changed: int) -> dict[str, Any]:
    """n disclosures over 24 months; `changed` of them replaced by corrections (the only
    way a published item changes)."""
    base = dt.date(2024, 1, 5)
    items = [disclosure(f"item-{i:05d}", f"居务公开事项{i}", f"第{i}项的内容。" * 5,
                        base + dt.timedelta(days=30 * (i % 24))) for i in range(n)]
    for i in range(changed):
        old = items[i * (n // max(changed, 1))]
        items.append(disclosure(f"fix-{i:05d}", old["title"] + "（更正）", "更正后的内容。",
                                dt.date(2026, 3, 2), supersedes=old["uid"],
                                correction_note="金额有误"))
    return {"community": {"name": "幸福里社区", "code": "xingfuli"}, "disclosure": items}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with running_hub(tmp) as hub:
            publish_dir(hub, write_content(tmp / "c1", mapping(args.items, 0)))
            with device(tmp, hub) as dev:
                t0 = time.perf_counter()
                full = dev.sync()
                t_full = time.perf_counter() - t0
                poll = dev.sync()
                publish_dir(hub, write_content(tmp / "c2", mapping(args.items,
                                                                   args.items // 100)))
                t0 = time.perf_counter()
                delta = dev.sync()
                t_delta = time.perf_counter() - t0
    print(f"full sync of {args.items} items: {full.requests} requests, "
          f"{full.body_bytes} body bytes, {t_full:.1f} s ({full.status})")
    print(f"no-change poll: {poll.requests} request(s), {poll.body_bytes} body bytes "
          f"({poll.status})")
    print(f"1% changed ({args.items // 100} corrections): {delta.requests} requests, "
          f"{delta.body_bytes} body bytes = {delta.body_bytes / full.body_bytes:.1%} of the "
          f"full sync, {t_delta:.1f} s ({delta.status})")


if __name__ == "__main__":
    main()
