"""The display driver end to end: cache -> schedule -> render -> pty -> simulator, with a
simulated clock (a whole day in well under a second of waiting) and real wires."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from content.config import BoardConfig, Config
from content.db import Cache, unit_of_work
from content.models import Announcement, Base, BoardState, BoardStatus, DisplayLogEntry
from display_driver.driver import Board, Driver, DriverSettings
from display_driver.protocols import PROTOCOLS, BoardGeometry
from display_driver.render import default_renderer
from display_driver.simhost import PtyHost
from display_driver.simulator import (
    AlphaSimulator,
    Faults,
    OnbonFontCardSimulator,
    OnbonGraphicSimulator,
)
from display_driver.transport import Backoff, PortRegistry, SerialPort

DAY = dt.datetime(2026, 6, 15)  # a Monday
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
FAST = DriverSettings(poll_s=3600, fault_after=3, attempts_per_update=2,
                      retry_initial_s=60, retry_max_s=600)


def cfg(name: str, port: Path | str, **kw: Any) -> BoardConfig:
    base: dict[str, Any] = {"protocol": "onbon-bx5e", "width": 128, "height": 32,
                            "timeout_s": 0.2, "refresh_s": 600}
    base.update(kw)
    return BoardConfig(name=name, port=str(port), **base)


def fast_ports() -> PortRegistry:
    return PortRegistry(lambda url, s: SerialPort(url, s, backoff=Backoff(initial_s=0.0)))


def announce(cache: Cache, **kw: Any) -> None:
    kw.setdefault("boards", [])
    with unit_of_work(cache) as s:
        s.add(Announcement(**kw))


class SimClock:
    """Community-local time that moves only when the driver sleeps."""

    def __init__(self, start: dt.datetime, end: dt.datetime) -> None:
        self.now = start
        self.end = end
        self.driver: Driver | None = None

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)
        if self.now >= self.end and self.driver is not None:
            self.driver.stop()


def log_rows(cache: Cache, board: str) -> list[tuple[str, dt.timedelta, dt.timedelta | None]]:
    with cache.sessions() as s:
        rows = s.scalars(select(DisplayLogEntry).where(DisplayLogEntry.board == board)
                         .order_by(DisplayLogEntry.shown_from, DisplayLogEntry.id))
        return [(r.item_uid, r.shown_from - DAY, None if r.shown_to is None
                 else r.shown_to - DAY) for r in rows]


def status(cache: Cache, board: str) -> BoardStatus:
    with cache.sessions() as s:
        row = s.get(BoardStatus, board)
        assert row is not None
        return row


def pages_of(text: str, w: int = 128, h: int = 32) -> tuple[Any, ...]:
    return default_renderer().render(text, w, h, align="center").pages


def eventually(predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Wait for a condition another thread brings about (bounded; not a timing assumption)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[tuple[PtyHost, OnbonGraphicSimulator,
                                          OnbonGraphicSimulator]]:
    hall = OnbonGraphicSimulator(BoardGeometry(128, 32), 1)
    gate = OnbonGraphicSimulator(BoardGeometry(128, 32), 2)
    host = PtyHost([hall, gate], tmp_path / "ttyUSB0")
    yield host, hall, gate
    host.close()


def test_a_simulated_day_on_one_rs485_bus(cache: Cache, config: Config,
                                         bus: tuple[PtyHost, OnbonGraphicSimulator,
                                                    OnbonGraphicSimulator]) -> None:
    host, hall_sim, gate_sim = bus
    announce(cache, uid="notice", text="本周五下午开展消防演练", valid_from=DAY - H,
             priority=1)
    announce(cache, uid="water", text="紧急通知：10:00起停水", valid_from=DAY + 10 * H,
             valid_until=DAY + 10 * H + 30 * M, emergency=True)
    announce(cache, uid="clinic", text="义诊18:00-19:00", valid_from=DAY - H,
             rrule="FREQ=DAILY;BYHOUR=18;BYMINUTE=0", duration_minutes=60, priority=2,
             boards=["hall"])
    hall = cfg("hall", host.link, address=1, quiet_hours="23:00-06:00", quiet_mode="dim")
    gate = cfg("gate", host.link, address=2, quiet_hours="22:00-06:00", quiet_mode="blank")
    clock = SimClock(DAY, DAY + 24 * H)
    seen: list[tuple[dt.timedelta, str]] = []  # what the hall simulator decoded, and when
    texts = {"notice": pages_of("本周五下午开展消防演练"),
             "water": pages_of("紧急通知：10:00起停水"), "clinic": pages_of("义诊18:00-19:00")}

    def watch() -> None:
        for uid, pages in texts.items():
            if hall_sim.pages == pages and (not seen or seen[-1][1] != uid):
                seen.append((clock.now - DAY, uid))

    host.on_change = watch
    driver = Driver(config, cache, boards=[hall, gate], clock=clock, sleep=clock.sleep,
                    settings=FAST, ports=fast_ports())
    clock.driver = driver
    started = time.monotonic()
    driver.run()
    assert time.monotonic() - started < 20

    # the emergency pre-empted at once and reverted by itself, decoded by the simulator
    assert seen == [(dt.timedelta(0), "notice"), (10 * H, "water"), (10 * H + 30 * M, "notice"),
                    (18 * H, "clinic"), (19 * H, "notice")]
    assert hall_sim.errors == [] and gate_sim.errors == []
    assert hall_sim.brightness == 3  # dimmed after 23:00
    assert gate_sim.pages == ()      # blanked after 22:00

    hall_log = log_rows(cache, "hall")
    assert hall_log[:-1] == [("notice", dt.timedelta(0), 10 * H),
                             ("water", 10 * H, 10 * H + 30 * M),
                             ("notice", 10 * H + 30 * M, 18 * H),
                             ("clinic", 18 * H, 19 * H)]
    uid, start, end = hall_log[-1]
    assert (uid, start) == ("notice", 19 * H)
    assert end is not None and 23 * H + 50 * M <= end < 24 * H  # last confirmation
    assert log_rows(cache, "gate") == [("notice", 6 * H, 10 * H),
                                       ("water", 10 * H, 10 * H + 30 * M),
                                       ("notice", 10 * H + 30 * M, 22 * H)]
    st = status(cache, "hall")
    assert st.state is BoardState.OK and st.consecutive_failures == 0
    assert st.showing_uid == "notice" and st.last_ok_at is not None


def test_faulted_board_does_not_hold_up_the_others(tmp_path: Path, cache: Cache,
                                                   config: Config) -> None:
    good_sim = OnbonGraphicSimulator(BoardGeometry(128, 32), 1)
    bad_sim = OnbonGraphicSimulator(BoardGeometry(128, 32), 1, faults=Faults(nack_error=3))
    silent_sim = OnbonFontCardSimulator(BoardGeometry(128, 32), 1,
                                        faults=Faults(drop_replies=True))
    hosts = [PtyHost([good_sim], tmp_path / "good"), PtyHost([bad_sim], tmp_path / "bad"),
             PtyHost([silent_sim], tmp_path / "silent")]
    announce(cache, uid="n", text="社区通知", valid_from=DAY - H)
    boards = [cfg("good", tmp_path / "good"), cfg("nacking", tmp_path / "bad"),
              cfg("silent", tmp_path / "silent", protocol="onbon-bx5k", timeout_s=0.3)]
    settings = DriverSettings(poll_s=0.05, fault_after=3, attempts_per_update=2,
                              retry_initial_s=0.02, retry_max_s=0.05)
    t0 = time.monotonic()
    driver = Driver(config, cache, boards=boards, settings=settings, ports=fast_ports(),
                    clock=lambda: DAY + 12 * H + dt.timedelta(seconds=time.monotonic() - t0))
    runner = threading.Thread(target=driver.run)
    runner.start()
    try:
        # the good board shows its item long before the silent one has timed out 3 times
        assert hosts[0].wait_for(lambda: good_sim.pages == pages_of("社区通知"), 0.5)
        assert eventually(lambda: status(cache, "nacking").state is BoardState.FAULTED)
        assert eventually(lambda: status(cache, "silent").state is BoardState.FAULTED)
        bad = status(cache, "nacking")
        assert bad.consecutive_failures >= 3 and "busy" in (bad.last_error or "")
        assert "did not answer" in (status(cache, "silent").last_error or "")
        assert status(cache, "good").state is BoardState.OK
        bad_sim.faults = Faults()  # the board recovers: resent, ok again
        assert eventually(lambda: status(cache, "nacking").state is BoardState.OK)
        assert bad_sim.pages == pages_of("社区通知")
    finally:
        driver.stop()
        runner.join(10)
        for h in hosts:
            h.close()
    assert not runner.is_alive()
    assert [r[0] for r in log_rows(cache, "nacking")] == ["n"]
    assert log_rows(cache, "silent") == []  # never confirmed: no evidence claimed


def test_unplugged_adapter_faults_then_recovers_and_resends(
        tmp_path: Path, cache: Cache, config: Config) -> None:
    sim = OnbonGraphicSimulator(BoardGeometry(128, 32), 1)
    host = PtyHost([sim], tmp_path / "ttyUSB0")
    announce(cache, uid="n", text="社区通知", valid_from=DAY - H)
    driver = Driver(config, cache, boards=[cfg("hall", host.link, refresh_s=60)],
                    settings=DriverSettings(poll_s=3600, retry_initial_s=10, retry_max_s=40),
                    ports=fast_ports())
    try:
        t = DAY
        driver.step(t)
        assert sim.pages == pages_of("社区通知")
        host.unplug()
        for minutes in (1, 2, 3):
            t = DAY + minutes * M
            driver.step(t)
        st = status(cache, "hall")
        assert st.state is BoardState.FAULTED and "unplugged" in (st.last_error or "")
        assert log_rows(cache, "hall") == [("n", dt.timedelta(0), dt.timedelta(0))]
        host.plug()
        sim.areas.clear()
        sim.pages = ()  # the board lost power with the adapter
        driver.step(DAY + 4 * M)
        assert sim.pages == pages_of("社区通知")
        assert status(cache, "hall").state is BoardState.OK
        assert log_rows(cache, "hall")[-1] == ("n", 4 * M, None)
    finally:
        driver.shutdown()
        host.close()


def test_alpha_and_font_card_boards_and_quiet_blank(tmp_path: Path, cache: Cache,
                                                    config: Config) -> None:
    alpha = AlphaSimulator(BoardGeometry(96, 16), 2)
    card = OnbonFontCardSimulator(BoardGeometry(128, 32), 1)
    hosts = [PtyHost([alpha], tmp_path / "a"), PtyHost([card], tmp_path / "c")]
    announce(cache, uid="n", text="停水", valid_from=DAY - H)
    boards = [cfg("gate", tmp_path / "a", protocol="alpha", address=2, width=96, height=16),
              cfg("hall", tmp_path / "c", protocol="onbon-bx5k", quiet_hours="22:00-06:00")]
    driver = Driver(config, cache, boards=boards, settings=FAST, ports=fast_ports())
    try:
        driver.step(DAY + 12 * H)
        assert alpha.pages == pages_of("停水", 96, 16)
        assert card.text == "停水"
        driver.step(DAY + 22 * H)
        assert card.pages == ()  # font cards cannot dim: quiet hours blank them
        assert status(cache, "gate").state is BoardState.OK
    finally:
        driver.shutdown()
        for h in hosts:
            h.close()


def test_restart_closes_rows_a_crashed_run_left_open(cache: Cache, config: Config) -> None:
    with unit_of_work(cache) as s:
        s.add(BoardStatus(board="hall", state=BoardState.OK, consecutive_failures=0,
                          last_ok_at=DAY + 2 * H, updated_at=DAY + 2 * H))
        s.add(DisplayLogEntry(board="hall", item_uid="n", text="x", shown_from=DAY))
    driver = Driver(config, cache, boards=[cfg("hall", "loop://")], clock=lambda: DAY + 5 * H)
    driver.start()
    assert log_rows(cache, "hall") == [("n", dt.timedelta(0), 2 * H)]
    assert status(cache, "hall").state is BoardState.UNKNOWN
    driver.shutdown()


def test_config_protocol_names_match_the_registry() -> None:
    import typing

    from content.config import BoardProtocolName

    assert set(typing.get_args(BoardProtocolName)) == set(PROTOCOLS)


def test_migrations_match_the_models(cache: Cache) -> None:
    with cache.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "include_object": lambda obj, name, type_, *a: not (
                type_ == "table" and str(name).startswith(("search_tri", "search_uni")))})
        assert compare_metadata(ctx, Base.metadata) == []


def test_board_prepare_matches_preview(tmp_path: Path) -> None:
    board = Board(cfg("hall", "loop://"))
    frames, problems = board.prepare("水\x07")
    sim = OnbonGraphicSimulator(BoardGeometry(128, 32), 1)
    for f in frames:
        sim.feed(f)
    assert sim.pages == pages_of("水\x07")
    assert [p.char for p in problems] == ["\x07"]


def test_status_keeps_a_preview_of_what_each_board_was_sent(tmp_path: Path, cache: Cache,
                                                            config: Config) -> None:
    import io

    from PIL import Image

    from display_driver.render import bitmap_from_image

    def preview(board: str, w: int, h: int) -> list[Any]:
        row = status(cache, board)
        assert row.preview_png is not None
        sheet = Image.open(io.BytesIO(row.preview_png))
        assert sheet.size == (w, h * max(1, row.preview_pages))
        return [bitmap_from_image(sheet.crop((0, i * h, w, (i + 1) * h)))
                for i in range(row.preview_pages)]

    alpha = AlphaSimulator(BoardGeometry(96, 16), 2)
    card = OnbonFontCardSimulator(BoardGeometry(128, 32), 1)
    hosts = [PtyHost([alpha], tmp_path / "a"), PtyHost([card], tmp_path / "c")]
    long_text = "本周五下午三点在社区广场开展消防演练，请居民朋友积极参加"
    announce(cache, uid="n", text=long_text, valid_from=DAY - H)
    boards = [cfg("gate", tmp_path / "a", protocol="alpha", address=2, width=96, height=16),
              cfg("hall", tmp_path / "c", protocol="onbon-bx5k", quiet_hours="22:00-06:00")]
    driver = Driver(config, cache, boards=boards, settings=FAST, ports=fast_ports())
    try:
        driver.step(DAY + 12 * H)
        # Several pages on the small sign, each exactly what the sign decoded.
        assert len(alpha.pages) > 1
        assert tuple(preview("gate", 96, 16)) == alpha.pages
        assert tuple(preview("hall", 128, 32)) == card.pages
        driver.step(DAY + 22 * H)  # quiet hours blank the font card: so does its preview
        assert status(cache, "hall").preview_pages == 0
        assert preview("gate", 96, 16) == list(alpha.pages)
    finally:
        driver.shutdown()
        for h in hosts:
            h.close()
