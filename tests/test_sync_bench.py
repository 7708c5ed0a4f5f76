"""Smoke run of bench/sync_measure.py at CI size: the figures come out, and a device's peak
memory does not grow with the size of an attachment (it is streamed to disk)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import sync_measure


@pytest.mark.slow
def test_attachment_sync_memory_is_flat(tmp_path: Path) -> None:
    a = sync_measure.measure_attachments(tmp_path, 1, 24)
    small, big = a["small"]["sync"], a["big"]["sync"]
    assert small["status"] == big["status"] == "updated"
    assert big["body_bytes"] > 24 << 20
    assert big["rss_mb"] < small["rss_mb"] * 1.15 + 4  # 24x the bytes, not 24x the memory


@pytest.mark.slow
def test_items_and_polls_figures(tmp_path: Path) -> None:
    r = sync_measure.measure_items(tmp_path, 120)
    assert r["sync"]["status"] == "updated" and r["import"]["total_s"] > 0
    p = sync_measure.measure_polls(tmp_path, clients=4, seconds=0.5)
    assert p["polls"]["ok"] > 0 and p["polls"]["bad"] == 0 and p["healthz"]["ok"] > 0
