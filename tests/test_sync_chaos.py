"""Bounded runs of the chaos benches (bench/outbox_chaos.py, bench/sync_chaos.py): the
relay SIGKILLed at random instants while the hub fails before and after its commit still
stores each submission exactly once; `juwu sync` killed at random instants leaves old or
new content, never a mix, and the next sync finishes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import outbox_chaos, sync_chaos


@pytest.mark.slow
def test_outbox_chaos_exactly_once(tmp_path: Path) -> None:
    r = outbox_chaos.run_chaos(tmp_path, submissions=60, kills=3, seed=3, p_before=0.1,
                               p_after=0.1, max_kill_delay_s=0.4)
    assert r.kills_landed >= 1 and r.relay_runs == 4
    assert r.failed_before_commit + r.failed_after_commit > 0
    assert r.exactly_once, r


@pytest.mark.slow
def test_sync_chaos_never_a_mix(tmp_path: Path) -> None:
    r = sync_chaos.run_chaos(tmp_path, kills=3, items=40, attachment_bytes=1 << 20, seed=5)
    assert r.states["neither"] == 0 and sum(r.states.values()) == 3
    assert r.recovery_failures == 0
