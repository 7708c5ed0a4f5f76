"""What goes on the wire, and what does not: rotation turns, identical frames, dimming,
a reconnect; and the ``[driver]`` / ``[[boards]]`` knobs that used to be hard-coded."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from content.config import Config, ConfigError, load_config
from content.db import Cache
from display_driver.driver import Board, Driver, DriverSettings
from display_driver.protocols import BoardGeometry, onbon
from display_driver.simhost import PtyHost
from display_driver.simulator import OnbonGraphicSimulator
from tests.test_board_driver import DAY, H, M, announce, cfg, fast_ports, log_rows, pages_of

SETTINGS = DriverSettings(poll_s=7, fault_after=3, attempts_per_update=2,
                          retry_initial_s=60, retry_max_s=60)


def run_until(driver: Driver, start: dt.datetime, end: dt.datetime) -> int:
    """Step at every instant the driver asks for (and every poll); returns the steps."""
    t, steps = start, 0
    while t < end:
        t = max(driver.step(t), t + dt.timedelta(seconds=1))
        steps += 1
    return steps


def sent(sim: OnbonGraphicSimulator) -> list[str]:
    names = {onbon.DynamicAreaUpdate: "pixels", onbon.Gen5Brightness: "brightness",
             onbon.DynamicAreaDelete: "clear"}
    return [names.get(type(r), type(r).__name__) for r in sim.requests]


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[tuple[PtyHost, OnbonGraphicSimulator]]:
    sim = OnbonGraphicSimulator(BoardGeometry(64, 16), 1)
    host = PtyHost([sim], tmp_path / "tty")
    yield host, sim
    host.close()


def test_rotation_sends_once_per_turn_and_polls_send_nothing(
        cache: Cache, config: Config, hall: tuple[PtyHost, OnbonGraphicSimulator]) -> None:
    host, sim = hall
    announce(cache, uid="a", text="停水", valid_from=DAY - H)
    announce(cache, uid="b", text="停电", valid_from=DAY - H)
    board = cfg("hall", host.link, width=64, height=16, rotate_s=20, quiet_mode="dim",
                quiet_hours="23:00-06:00")
    driver = Driver(config, cache, boards=[board], settings=SETTINGS,
                    ports=fast_ports())
    try:
        steps = run_until(driver, DAY + 12 * H, DAY + 12 * H + 10 * M)
        # 30 turns of 20 s in 10 minutes, polled every 7 s: one pixel update per turn, and
        # the brightness only once (it never changed)
        assert steps > 60
        assert sent(sim) == ["brightness"] + ["pixels"] * 30
        rows = log_rows(cache, "hall")
        assert len(rows) == 30 and [r[0] for r in rows[:3]] == ["a", "b", "a"]
    finally:
        driver.shutdown()


def test_items_that_look_the_same_are_not_resent(
        cache: Cache, config: Config, hall: tuple[PtyHost, OnbonGraphicSimulator]) -> None:
    host, sim = hall
    announce(cache, uid="a", text="消防演练", valid_from=DAY - H)
    announce(cache, uid="b", text="消防演练", valid_from=DAY - H)  # the same text twice
    board = cfg("hall", host.link, width=64, height=16, rotate_s=20, refresh_s=600)
    driver = Driver(config, cache, boards=[board], settings=SETTINGS,
                    ports=fast_ports())
    try:
        run_until(driver, DAY + 12 * H, DAY + 12 * H + 5 * M)
        assert sent(sim) == ["pixels"]  # refresh_s not reached: nothing to resend
        # the display log still says which item was showing
        assert [r[0] for r in log_rows(cache, "hall")[:4]] == ["a", "b", "a", "b"]
        run_until(driver, DAY + 12 * H + 5 * M, DAY + 12 * H + 11 * M)
        assert sent(sim) == ["pixels", "pixels"]  # the periodic refresh still goes out
    finally:
        driver.shutdown()


def test_quiet_hours_dim_with_one_small_frame_and_reconnect_resends_all(
        cache: Cache, config: Config, hall: tuple[PtyHost, OnbonGraphicSimulator]) -> None:
    host, sim = hall
    announce(cache, uid="a", text="停水", valid_from=DAY - H)
    board = cfg("hall", host.link, width=64, height=16, quiet_mode="dim",
                quiet_hours="23:00-06:00", dim_brightness=5)
    driver = Driver(config, cache, boards=[board], settings=SETTINGS,
                    ports=fast_ports())
    try:
        driver.step(DAY + 22 * H + 59 * M)
        driver.step(DAY + 23 * H)
        assert sent(sim) == ["brightness", "pixels", "brightness"]
        assert sim.brightness == 5 and sim.pages == pages_of("停水", 64, 16)
        host.unplug()  # the adapter and the board lose power together
        driver.step(DAY + 23 * H + 11 * M)
        host.plug()
        sim.areas.clear()
        sim.pages, sim.brightness = (), 15
        driver.step(DAY + 23 * H + 12 * M)  # the retry after a lost port resends everything
        assert sent(sim)[3:] == ["brightness", "pixels"]
        assert sim.brightness == 5 and sim.pages == pages_of("停水", 64, 16)
    finally:
        driver.shutdown()


def test_driver_section_and_board_knobs_come_from_the_config(tmp_path: Path) -> None:
    user = tmp_path / "juwu.toml"
    user.write_text(
        "[driver]\npoll_s = 12.5\nfault_after = 5\nretry_max_s = 30\n"
        '[[boards]]\nname = "hall"\nprotocol = "onbon-bx5e"\nport = "loop://"\nwidth = 64\n'
        'height = 16\ndevice_type = "BX-5E1"\ndim_brightness = 1\npage_s = 8\n'
        '[[boards]]\nname = "card"\nprotocol = "onbon-bx5k"\nport = "loop://"\nwidth = 64\n'
        'height = 16\ndevice_type = "0x61"\n', encoding="utf-8")
    config = load_config(user, environ={})
    st = DriverSettings.from_config(config.driver)
    assert (st.poll_s, st.fault_after, st.retry_initial_s, st.retry_max_s) == (12.5, 5, 5.0, 30)
    hall, card = (Board(b) for b in config.boards)
    assert isinstance(hall.protocol, onbon.OnbonGraphic)
    assert hall.protocol.device_type == 0x0154 and hall.cfg.dim_brightness == 1
    ping = hall.protocol.encode_ping()
    assert bytes.fromhex("54 01") in ping[8:24]  # the header names the card model
    assert isinstance(card.protocol, onbon.OnbonFontCard) and card.protocol.device_type == 0x61
    frames, _ = hall.prepare("停水")
    sim = OnbonGraphicSimulator(BoardGeometry(64, 16), 1)
    sim.feed(frames[0])
    (update,) = sim.requests
    assert isinstance(update, onbon.DynamicAreaUpdate) and update.pages[0].stay_10ms == 800


@pytest.mark.parametrize(("key", "value", "message"), [
    ("device_type", '"BX-9Z"', "neither a onbon-bx5e model (BX-5E1"),
    ("device_type", '"0x10000"', "nor a code up to 0xffff"),
])
def test_bad_device_type_is_named(tmp_path: Path, key: str, value: str, message: str) -> None:
    user = tmp_path / "juwu.toml"
    user.write_text(f'[[boards]]\nname = "hall"\nprotocol = "onbon-bx5e"\nport = "loop://"\n'
                    f"width = 64\nheight = 16\n{key} = {value}\n", encoding="utf-8")
    (board,) = load_config(user, environ={}).boards
    with pytest.raises(ValueError, match=re.escape(message)):
        Board(board)


def test_bad_knobs_are_refused_with_the_key_named(tmp_path: Path) -> None:
    user = tmp_path / "juwu.toml"
    user.write_text('[[boards]]\nname = "hall"\nprotocol = "onbon-bx5e"\nport = "loop://"\n'
                    "width = 64\nheight = 16\ndim_brightness = 16\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"boards\[0\] \(hall\)\.dim_brightness: expected 0"):
        load_config(user, environ={})
    with pytest.raises(ValueError, match=r"\[driver\] fault_after = 0 is out of range"):
        DriverSettings(fault_after=0)
    env = {"JUWU_DRIVER__POLL_S": "2.5"}
    assert load_config(environ=env).driver.poll_s == 2.5
