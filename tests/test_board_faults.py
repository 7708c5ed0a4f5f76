"""Every fault the simulator can inject, and bad input from the line and the system: the
driver says what is wrong in an operator's words, faults only the board concerned, keeps
the others running and recovers by itself. Real ptys, the driver stepped with explicit
instants (no sleeps for correctness)."""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from content.config import Config
from content.db import Cache
from content.models import BoardState
from display_driver.cli import apply_fault_command
from display_driver.driver import Board, Content, Driver, DriverSettings
from display_driver.protocols import BoardGeometry, onbon
from display_driver.simhost import PtyHost, TcpHost
from display_driver.simulator import Faults, OnbonGraphicSimulator
from display_driver.transport import PortUnavailable, SerialPort
from tests.test_board_driver import DAY, H, announce, cfg, fast_ports, log_rows, pages_of, status

M = dt.timedelta(minutes=1)
G = BoardGeometry(64, 16)
TEXT = "停水通知"
SETTINGS = DriverSettings(poll_s=3600, fault_after=3, attempts_per_update=2,
                          retry_initial_s=60, retry_max_s=60)


class Rig:
    """Two boards on their own ptys: ``good`` stays healthy, ``bad`` gets the fault."""

    def __init__(self, tmp_path: Path, cache: Cache, config: Config, **bad_kw: object) -> None:
        self.good_sim = OnbonGraphicSimulator(G, 1)
        self.bad_sim = OnbonGraphicSimulator(G, 1)
        self.good_host = PtyHost([self.good_sim], tmp_path / "good")
        self.bad_host = PtyHost([self.bad_sim], tmp_path / "bad")
        announce(cache, uid="n", text=TEXT, valid_from=DAY - H)
        small = {"width": 64, "height": 16, "timeout_s": 0.1}
        self.boards = [cfg("good", self.good_host.link, **small),
                       cfg("bad", self.bad_host.link, **{**small, **bad_kw})]
        self.cache = cache
        self.driver = Driver(config, cache, boards=self.boards, settings=SETTINGS,
                             ports=fast_ports())

    def step_until(self, predicate: Callable[[], bool], start: dt.datetime,
                   limit: int = 6) -> dt.datetime:
        """Step at the instants the driver asks for until ``predicate`` holds."""
        t = start
        for _ in range(limit):
            t = max(t, self.driver.step(t))
            if predicate():
                return t
        raise AssertionError(f"not reached after {limit} steps: {status(self.cache, 'bad')}")

    def close(self) -> None:
        self.driver.shutdown()
        self.good_host.close()
        self.bad_host.close()


@pytest.fixture
def rig(tmp_path: Path, cache: Cache, config: Config) -> Iterator[Rig]:
    r = Rig(tmp_path, cache, config)
    yield r
    r.close()


def _slow(r: Rig) -> None:
    # The line carries 60 B/s, the board is set to 9600 baud: a frame takes ~3 s to cross,
    # far past the ~0.3 s the driver allows, and it is faulted before the first late ACK.
    # (Onbon ACKs carry no sequence number: a late ACK would pass for the next one's.)
    r.bad_host.bytes_per_s = 60


FAULTS: dict[str, tuple[Callable[[Rig], None], str]] = {
    "silent": (lambda r: setattr(r.bad_sim, "faults", Faults(drop_replies=True)),
               "did not answer within 0.1 s"),
    "nack": (lambda r: setattr(r.bad_sim, "faults", Faults(nack_error=3)),
             "refused the command (A0 01: ERR_BUSY"),
    "corrupt-crc": (lambda r: setattr(r.bad_sim, "faults", Faults(corrupt_reply_crc=True)),
                    "ignored: garbled reply: CRC mismatch"),
    "slow-link": (_slow, "did not answer within 0.1 s"),
    "unplugged": (lambda r: r.bad_host.unplug(), "no such device"),
    "babbling": (lambda r: setattr(r.bad_sim, "faults", Faults(noise=_bad_frames(70))),
                 "only garbled or foreign replies"),
}


def _bad_frames(n: int) -> bytes:
    header = onbon.Gen5Header(onbon.SRC_ADDR_PC, src=1)
    frame = onbon.encode_frame(header, onbon.gen5_ack().encode())
    return (frame[:-2] + bytes([frame[-2] ^ 0x40]) + frame[-1:]) * n  # CRC off by a bit


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_faults_only_its_board_and_it_recovers(fault: str, rig: Rig) -> None:
    inject, message = FAULTS[fault]
    inject(rig)
    t = rig.step_until(lambda: status(rig.cache, "bad").state is BoardState.FAULTED, DAY)
    bad = status(rig.cache, "bad")
    assert message in (bad.last_error or ""), bad.last_error
    assert bad.consecutive_failures >= 3 and bad.showing_uid is None
    good = status(rig.cache, "good")
    assert good.state is BoardState.OK and good.showing_uid == "n"
    assert rig.good_sim.pages == pages_of(TEXT, 64, 16) and rig.good_sim.errors == []
    assert log_rows(rig.cache, "bad") == []  # never confirmed: no evidence claimed

    # the fault clears (the board itself rebooted blank): it is resent and ok again
    if fault == "unplugged":
        rig.bad_host.plug()
    if fault == "slow-link":  # full speed: what was queued crosses at once; let it finish
        rig.bad_host.bytes_per_s = None
        assert rig.bad_host.wait_for(
            lambda: rig.bad_host.received >= bad_bytes(rig) and rig.bad_host.idle(), 10)
    rig.bad_sim.faults = Faults()
    rig.bad_sim.areas.clear()
    rig.bad_sim.pages = ()
    t = rig.step_until(lambda: status(rig.cache, "bad").state is BoardState.OK, t + M)
    # (after a slow link, a late ACK of a queued copy may confirm it a moment early)
    assert rig.bad_host.wait_for(lambda: rig.bad_sim.pages == pages_of(TEXT, 64, 16))
    assert status(rig.cache, "bad").consecutive_failures == 0
    assert [row[0] for row in log_rows(rig.cache, "bad")] == ["n"]


def bad_bytes(r: Rig) -> int:
    """What the driver wrote to the bad board while it failed: 2 attempts x 2 updates."""
    frames, _ = Board(r.boards[1]).content_frames(Content("n", TEXT))
    return 4 * sum(len(f) for f in frames)


def test_a_flaky_line_is_hidden_by_the_retry(rig: Rig) -> None:
    rig.bad_sim.faults = Faults(drop_every=2, noise=b"\x00\xff\xa5\x5a junk")
    t = DAY
    for _ in range(4):  # every other reply lost: each update needs its second attempt
        rig.driver.step(t)
        assert status(rig.cache, "bad").state is BoardState.OK
        t += dt.timedelta(seconds=rig.boards[1].refresh_s)
    assert rig.bad_sim.replies >= 6 and rig.bad_sim.pages == pages_of(TEXT, 64, 16)


def test_unsolicited_bytes_between_updates_are_discarded(rig: Rig, cache: Cache) -> None:
    rig.driver.step(DAY)
    stray = onbon.encode_frame(onbon.Gen5Header(onbon.SRC_ADDR_PC, src=1),
                               onbon.gen5_nack(3).encode())
    rig.bad_host.inject(b"\xa5\xa5\xa5 noise " + stray + b"\x5a\x5a")
    announce(cache, uid="m", text="新通知", valid_from=DAY, priority=5)
    rig.driver.step(DAY + M)  # a stale NACK must not be taken for the answer to this update
    assert status(cache, "bad").state is BoardState.OK
    assert rig.bad_sim.pages == pages_of("新通知", 64, 16)


def test_a_link_at_the_configured_baud_is_not_a_timeout(tmp_path: Path) -> None:
    """write() returns before a pty, a serial server or a deep FIFO has sent the bytes, so
    the wait for the reply allows the frame's wire time on top of timeout_s."""
    sim = OnbonGraphicSimulator(G, 1)
    host = PtyHost([sim], tmp_path / "tty", bytes_per_s=960)  # 9600 baud, 10 bits a byte
    board = Board(cfg("hall", host.link, width=64, height=16, timeout_s=0.05))
    frames, _ = board.content_frames(Content("n", TEXT))
    port = SerialPort(str(host.link), board.serial)
    try:
        assert board.serial.wire_time_s(sum(len(f) for f in frames)) > 0.15  # >> timeout_s
        board.send(port, frames)
        assert sim.pages == pages_of(TEXT, 64, 16)
    finally:
        port.close()
        host.close()


def test_a_port_that_does_not_exist(tmp_path: Path, cache: Cache, config: Config) -> None:
    sim = OnbonGraphicSimulator(G, 1)
    host = PtyHost([sim], tmp_path / "good")
    announce(cache, uid="n", text=TEXT, valid_from=DAY - H)
    boards = [cfg("good", host.link, width=64, height=16),
              cfg("ghost", tmp_path / "ttyUSB7", width=64, height=16)]
    driver = Driver(config, cache, boards=boards, settings=SETTINGS, ports=fast_ports())
    try:
        for minutes in range(3):
            driver.step(DAY + minutes * M)
        ghost = status(cache, "ghost")
        assert ghost.state is BoardState.FAULTED
        assert "ttyUSB7: no such device" in (ghost.last_error or "")
        assert status(cache, "good").state is BoardState.OK
        assert sim.pages == pages_of(TEXT, 64, 16)
    finally:
        driver.shutdown()
        host.close()


# --------------------------------------------------------------------------------------
# Permission denied, for real, even as root
# --------------------------------------------------------------------------------------
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def _drop_dac_override_in_this_thread() -> str | None:
    """Root opens mode-000 files through CAP_DAC_OVERRIDE. Capabilities are per thread on
    Linux, so dropping it in one thread makes the kernel refuse there as it would refuse
    an operator outside the dialout group. Returns why it cannot, or None."""
    if os.geteuid() != 0:
        return None  # an ordinary user is refused anyway
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        capget, capset = libc.capget, libc.capset
    except (OSError, AttributeError):
        return "no capget/capset here"

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3
    if capget(ctypes.byref(header), data) != 0:
        return f"capget failed (errno {ctypes.get_errno()})"
    data[0].effective &= ~((1 << CAP_DAC_OVERRIDE) | (1 << CAP_DAC_READ_SEARCH))
    if capset(ctypes.byref(header), data) != 0:
        return f"capset failed (errno {ctypes.get_errno()})"
    return None


def test_a_permission_denied_port(tmp_path: Path, cache: Cache, config: Config) -> None:
    good_sim, denied_sim = OnbonGraphicSimulator(G, 1), OnbonGraphicSimulator(G, 1)
    good = PtyHost([good_sim], tmp_path / "good")
    denied = PtyHost([denied_sim], tmp_path / "denied")
    tty = os.path.realpath(denied.link)
    mode = os.stat(tty).st_mode
    os.chmod(tty, 0)
    announce(cache, uid="n", text=TEXT, valid_from=DAY - H)
    boards = [cfg("good", good.link, width=64, height=16),
              cfg("denied", denied.link, width=64, height=16)]
    driver = Driver(config, cache, boards=boards, settings=SETTINGS, ports=fast_ports())
    outcome: dict[str, object] = {}

    def unprivileged() -> None:  # the driver's own thread, without root's override
        outcome["skip"] = _drop_dac_override_in_this_thread()
        if outcome["skip"] is None:
            try:
                os.close(os.open(tty, os.O_RDWR))
                outcome["skip"] = "the kernel still lets this thread open a mode-000 tty"
            except PermissionError:
                for minutes in range(3):
                    driver.step(DAY + minutes * M)

    try:
        worker = threading.Thread(target=unprivileged)
        worker.start()
        worker.join(30)
        if outcome["skip"]:
            pytest.skip(str(outcome["skip"]))
        bad = status(cache, "denied")
        assert bad.state is BoardState.FAULTED
        assert "permission denied (add the juwu user to the 'dialout' group" in (
            bad.last_error or "")
        assert status(cache, "good").state is BoardState.OK
        assert good_sim.pages == pages_of(TEXT, 64, 16) and denied_sim.pages == ()
    finally:
        driver.shutdown()
        os.chmod(tty, mode)
        good.close()
        denied.close()


# --------------------------------------------------------------------------------------
# The fault console of `juwu board simulate`, and TCP serial servers coming and going
# --------------------------------------------------------------------------------------
def test_fault_commands_change_a_running_simulator(tmp_path: Path) -> None:
    sim = OnbonGraphicSimulator(G, 1)
    host = PtyHost([sim], tmp_path / "tty")
    try:
        assert apply_fault_command("nack 3", sim, host) == (
            "faults: NACK 3 (ERR_BUSY: controller busy)")
        assert apply_fault_command("silent", sim, host).startswith("faults: never answers")
        apply_fault_command("ok", sim, host)
        assert apply_fault_command("slow 960", sim, host) == "faults: slow link 960 bytes/s"
        assert apply_fault_command("drop-every 3", sim, host) == (
            "faults: loses 1 reply in 3, slow link 960 bytes/s")
        assert "2 bytes of noise" in apply_fault_command("noise a5 5a", sim, host)
        assert apply_fault_command("ok", sim, host) == "faults: none"
        assert apply_fault_command("unplug", sim, host) == "faults: unplugged"
        assert not host.link.exists()
        assert apply_fault_command("plug", sim, host) == "faults: none"
        with pytest.raises(ValueError, match=r"unknown command 'reboot' \(commands: ok"):
            apply_fault_command("reboot", sim, host)
        with pytest.raises(ValueError, match="invalid literal"):
            apply_fault_command("nack busy", sim, host)
    finally:
        host.close()


def test_tcp_serial_server_switched_off_and_on() -> None:
    host = TcpHost([OnbonGraphicSimulator(G, 1)])
    board = onbon.OnbonGraphic(G, 1)
    port = SerialPort(host.url, board.default_serial)
    try:
        assert port.exchange([board.encode_ping()], board.reply_parser()).replies[0].ok
        host.unplug()
        with pytest.raises(PortUnavailable):
            port.exchange([board.encode_ping()], board.reply_parser())
        port.backoff.next_attempt = 0.0  # do not wait out the backoff in a test
        with pytest.raises(PortUnavailable, match=r"connection refused .*host:port"):
            port.exchange([board.encode_ping()], board.reply_parser())
        host.plug()
        port.backoff.next_attempt = 0.0
        assert port.exchange([board.encode_ping()], board.reply_parser()).replies[0].ok
    finally:
        port.close()
        host.close()
