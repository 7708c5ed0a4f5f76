"""Periodic sync against a real hub on 127.0.0.1, with injected waiting: polls are jittered
within bounds, a hub down for days costs a capped trickle of requests while the content
stays, and a hub that comes back is caught up with (content and outbox). The board driver
runs the loop in a background thread that ends with it."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from content.models import Disclosure
from content.sync.client import SyncStatus, read_state
from content.sync.periodic import PeriodicSync
from display_driver.driver import Driver
from display_driver.protocols import BoardGeometry
from display_driver.simhost import PtyHost
from display_driver.simulator import OnbonGraphicSimulator
from tests.sync_support import (
    Device,
    Hub,
    content_mapping,
    device,
    publish_dir,
    respond,
    running_hub,
    write_content,
)
from tests.test_board_driver import FAST, cfg, eventually, fast_ports, pages_of
from tests.test_sync_outbox import hub_counts, submit

DAY = 24 * 3600.0
FAST_SYNC = {"poll_interval_s": "900", "poll_jitter_s": "300", "poll_backoff_max_s": "7200",
             "retries": "0"}


class SimWait:
    """An injected wait: records each delay, advances simulated time, never blocks."""

    def __init__(self, until_s: float = float("inf"), rounds: int | None = None) -> None:
        self.delays: list[float] = []
        self.until_s, self.rounds = until_s, rounds
        self.loop: PeriodicSync | None = None

    @property
    def elapsed_s(self) -> float:
        return sum(self.delays)

    def __call__(self, seconds: float) -> bool:
        self.delays.append(seconds)
        done_rounds = self.loop is not None and self.rounds is not None and len(
            self.loop.rounds) >= self.rounds
        return self.elapsed_s >= self.until_s or done_rounds


def loop_for(dev: Device, wait: SimWait, seed: int = 1) -> PeriodicSync:
    p = PeriodicSync(dev.config, dev.cache, wait=wait, rng=random.Random(seed))
    wait.loop = p
    return p


@contextlib.contextmanager
def hub_down(hub: Hub) -> Iterator[None]:
    """Every request answered 503, as behind a proxy whose hub is gone."""
    real = hub.board.app

    async def down(scope: Any, receive: Any, send: Any) -> None:
        await respond(send, 503, b"hub down")
    hub.board.app = down
    try:
        yield
    finally:
        hub.board.app = real


def disclosures(dev: Device) -> int:
    with dev.cache.sessions() as s:
        return s.scalar(select(func.count()).select_from(Disclosure)) or 0


def test_polls_are_jittered_within_bounds(tmp_path: Path) -> None:
    with running_hub(tmp_path) as hub, device(tmp_path, hub, **FAST_SYNC) as dev:
        publish_dir(hub, write_content(tmp_path / "c1", content_mapping(2)))
        wait = SimWait(rounds=6)
        loop_for(dev, wait).run()
        first, *between = wait.delays
        assert 0 <= first <= 300  # a district's devices do not start polling together
        assert len(between) == 6 and all(900 <= d <= 1200 for d in between), between
        assert len({round(d, 3) for d in between}) == 6  # jittered, not a fixed beat
        outcomes = [r.outcome.status for r in wait.loop.rounds]  # type: ignore[union-attr]
        assert outcomes == [SyncStatus.UPDATED] + [SyncStatus.UNCHANGED] * 5
        # Many devices: first polls spread over the jitter window.
        starts = [PeriodicSync(dev.config, dev.cache, rng=random.Random(i)).jitter()
                  for i in range(50)]
        assert min(starts) < 60 and max(starts) > 240


def test_hub_down_for_days_backs_off_keeps_content_then_catches_up(tmp_path: Path) -> None:
    with running_hub(tmp_path) as hub, device(tmp_path, hub, **FAST_SYNC) as dev:
        publish_dir(hub, write_content(tmp_path / "c1", content_mapping(2)))
        assert dev.sync().status is SyncStatus.UPDATED
        with hub_down(hub):
            submit(dev, 2)  # residents keep writing while the hub is away
            wait = SimWait(until_s=3 * DAY)
            loop = loop_for(dev, wait)
            loop.run()
            statuses = {r.outcome.status for r in loop.rounds}
            assert statuses == {SyncStatus.UNREACHABLE}
            between = wait.delays[1:]
            bases = [loop.base_delay(r.failures) for r in loop.rounds]
            assert bases[:4] == [900, 1800, 3600, 7200] and max(bases) == 7200  # capped
            assert all(b <= d <= b + 300 for b, d in zip(bases, between, strict=True))
            assert len(loop.rounds) < 45  # ~36 polls in 3 days, not one every 15 minutes
            assert disclosures(dev) == 2  # the last verified content stays
            with dev.cache.sessions() as s:
                assert read_state(s)["version"] == "1"
        publish_dir(hub, write_content(tmp_path / "c2", content_mapping(5)))
        back = loop.step()  # the hub is back: the next round catches up
        assert back.outcome.status is SyncStatus.UPDATED and back.failures == 0
        assert back.relay is not None and back.relay.acked == 4  # not held by outbox backoff
        assert loop.base_delay(back.failures) == 900
        assert disclosures(dev) == 5 and hub_counts(hub) == (2, 2)


def test_board_run_syncs_in_the_background_and_stops_with_the_driver(tmp_path: Path) -> None:
    sim = OnbonGraphicSimulator(BoardGeometry(128, 32), 1)
    host = PtyHost([sim], tmp_path / "ttyUSB0")
    try:
        with running_hub(tmp_path) as hub, device(tmp_path, hub, **FAST_SYNC) as dev:
            mapping = content_mapping(1)
            mapping["announcement"] = [{"uid": "water", "text": "明日停水",
                                        "valid_from": dt.datetime(2026, 6, 1)}]
            publish_dir(hub, write_content(tmp_path / "c1", mapping))
            assert dev.sync().status is SyncStatus.UPDATED
            with hub_down(hub):
                driver: Driver | None = None

                def wait(seconds: float) -> bool:
                    assert driver is not None
                    if len(periodic.rounds) >= 3:
                        # bounded wait for the worker thread's first tick, then stop
                        assert eventually(lambda: sim.pages == pages_of("明日停水"))
                        driver.stop()
                    return periodic.stopping

                periodic = PeriodicSync(dev.config, dev.cache, wait=wait,
                                        rng=random.Random(2))
                driver = Driver(dev.config, dev.cache, boards=[cfg("gate", tmp_path /
                                                                   "ttyUSB0")],
                                clock=lambda: dt.datetime(2026, 6, 15, 12), settings=FAST,
                                ports=fast_ports(), periodic=periodic)
                driver.run()
            assert periodic.thread is not None and not periodic.thread.is_alive()
            assert [r.outcome.status for r in periodic.rounds] == [SyncStatus.UNREACHABLE] * 3
            assert sim.pages == pages_of("明日停水")  # still the last verified content
    finally:
        host.close()


def test_one_sync_per_device_at_a_time(tmp_path: Path) -> None:
    import fcntl

    with running_hub(tmp_path) as hub, device(tmp_path, hub, **FAST_SYNC) as dev:
        publish_dir(hub, write_content(tmp_path / "c1", content_mapping(1)))
        lock = dev.config.data_dir / "sync" / "lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with lock.open("a+b") as held:  # as another process's sync would hold it
            fcntl.flock(held.fileno(), fcntl.LOCK_EX)
            busy = loop_for(dev, SimWait()).step()
            assert busy.outcome.status is SyncStatus.BUSY and busy.outcome.exit_code == 13
            assert busy.relay is None and busy.failures == 0 and disclosures(dev) == 0
            fcntl.flock(held.fileno(), fcntl.LOCK_UN)
        assert dev.sync().status is SyncStatus.UPDATED
