"""systemd's notify protocol and watchdog for the driver and the hub (docs/operations.md):
the real `juwu board run` and `juwu hub serve` talk to a notify socket the test binds, and
the liveness checks behind the pings are shown failing on real hangs."""

from __future__ import annotations

import datetime as dt
import http.server
import logging
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import serial

from content.config import BoardConfig, Config
from content.db import Cache
from content.hub.app import HubPaths
from content.hub.serve import healthz_problem, loopback_address
from content.sync.keys import init_keys, write_private
from content.sync.repository import HubRepository
from content.systemd import Watchdog, notify, watchdog_interval_s
from display_driver.driver import Driver, DriverSettings
from display_driver.liveness import Heartbeat, stuck
from display_driver.protocols import BoardGeometry
from display_driver.simhost import PtyHost
from display_driver.simulator import Faults, OnbonGraphicSimulator
from display_driver.transport import PortRegistry, SerialPort
from tests.sync_support import Hub, free_socket
from tests.test_board_driver import eventually
from tests.test_cli import JUWU


class NotifySocket:
    """The service manager's end: an AF_UNIX datagram socket, as systemd binds it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.env = {"NOTIFY_SOCKET": str(path)}

    def receive(self, timeout_s: float) -> str | None:
        self.sock.settimeout(max(timeout_s, 0.001))
        try:
            return self.sock.recv(4096).decode()
        except TimeoutError:
            return None

    def wait_for(self, message: str, timeout_s: float = 20.0) -> list[str]:
        """Everything received up to and including ``message`` (fails the test without)."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            got = self.receive(deadline - time.monotonic())
            if got is not None:
                seen.append(got)
                if got == message:
                    return seen
        raise AssertionError(f"no {message!r} within {timeout_s} s; got {seen}")

    def during(self, seconds: float) -> list[str]:
        """Everything received in the next ``seconds``."""
        seen: list[str] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            got = self.receive(left)
            if got is not None:
                seen.append(got)
        return seen


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    # Short path: AF_UNIX addresses are limited to 107 bytes, and tmp_path can be long.
    directory = Path(tempfile.mkdtemp(prefix="juwu-sd-"))
    ns = NotifySocket(directory / "notify")
    yield ns
    ns.sock.close()
    shutil.rmtree(directory)


def service_env(ns: NotifySocket, watchdog_usec: int = 1_000_000) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("JUWU_") and k not in ("NOTIFY_SOCKET", "WATCHDOG_PID")}
    return {**env, **ns.env, "WATCHDOG_USEC": str(watchdog_usec)}


# -- the protocol ----------------------------------------------------------------------
def test_notify_and_watchdog_interval(notify_socket: NotifySocket, tmp_path: Path) -> None:
    assert not notify("READY=1", environ={})
    assert notify("WATCHDOG=1", environ=notify_socket.env)
    assert notify_socket.receive(1) == "WATCHDOG=1"
    assert not notify("READY=1", environ={"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000",
                                "WATCHDOG_PID": str(os.getpid())}) == 15.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000",
                                "WATCHDOG_PID": str(os.getpid() + 1)}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_interval_s({}) is None


def test_the_watchdog_pings_only_while_its_check_passes(
        notify_socket: NotifySocket, caplog: pytest.LogCaptureFixture) -> None:
    problem: list[str | None] = [None]
    dog = Watchdog(lambda: problem[0], 0.05, send=lambda m: notify(m, notify_socket.env),
                   service="test")
    dog.start()
    try:
        assert notify_socket.wait_for("WATCHDOG=1", 5)
        problem[0] = "the loop is stuck"
        assert eventually(lambda: "the loop is stuck" in caplog.text)
        notify_socket.during(0.1)  # a ping already on its way
        assert notify_socket.during(0.4) == []
        problem[0] = None
        assert notify_socket.wait_for("WATCHDOG=1", 5)
        assert "healthy again" in caplog.text
    finally:
        dog.stop()
        dog.join(5)
    assert caplog.text.count("the loop is stuck") == 1  # once per episode, not per tick

    def broken() -> str | None:
        raise RuntimeError("oops")

    assert not Watchdog(broken, 1, send=lambda m: notify(m, notify_socket.env)).tick()
    assert "the liveness check failed: RuntimeError('oops')" in caplog.text


# -- the display driver ----------------------------------------------------------------
def test_board_run_is_ready_then_pings_despite_faulted_and_unplugged_boards(
        tmp_path: Path, notify_socket: NotifySocket) -> None:
    hall_sim = OnbonGraphicSimulator(BoardGeometry(64, 16), 1)
    gate_sim = OnbonGraphicSimulator(BoardGeometry(64, 16), 1,
                                     faults=Faults(drop_replies=True))
    hall_host = PtyHost([hall_sim], tmp_path / "ttyHALL")
    gate_host = PtyHost([gate_sim], tmp_path / "ttyGATE")
    config = tmp_path / "juwu.toml"
    boards = "".join(
        f'[[boards]]\nname = "{name}"\nprotocol = "onbon-bx5e"\nport = "{port}"\n'
        'width = 64\nheight = 16\ntimeout_s = 0.3\n'
        for name, port in (("hall", hall_host.link), ("gate", gate_host.link),
                           ("yard", tmp_path / "ttyGONE")))
    config.write_text('[community]\nname = "幸福里社区"\n[driver]\nfault_after = 2\n'
                      "retry_initial_s = 0.2\nretry_max_s = 0.5\nreconnect_initial_s = 0.2\n"
                      "reconnect_max_s = 0.5\n" + boards, encoding="utf-8")
    stderr = tmp_path / "driver.log"
    with stderr.open("w") as err:
        driver = subprocess.Popen([JUWU, "--data-dir", str(tmp_path), "--config", str(config),
                                   "board", "run"], stdout=subprocess.DEVNULL, stderr=err,
                                  env=service_env(notify_socket))
    try:
        before = notify_socket.wait_for("READY=1")
        assert "WATCHDOG=1" not in before  # ready first
        notify_socket.wait_for("WATCHDOG=1", 5)
        log = stderr.read_text
        assert eventually(lambda: all(s in log() for s in (
            "hall: showing fallback", "gate: faulted", "no such device")), 15), log()
        # The faulted and the unplugged board are handled by the driver: no hang.
        pings = notify_socket.during(1.6).count("WATCHDOG=1")
        assert pings >= 2, log()
        driver.send_signal(signal.SIGTERM)
        notify_socket.wait_for("STOPPING=1", 10)
        assert driver.wait(20) == 0
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait(10)
        hall_host.close()
        gate_host.close()
    text = stderr.read_text()
    assert "stuck" not in text and "not pinging" not in text, text


class StuckLine:
    """A serial line whose write does not return until released: what a wedged USB-serial
    driver does to the thread that writes (serial.serial_for_url's signature)."""

    def __init__(self, entered: threading.Event, release: threading.Event) -> None:
        self.entered = entered
        self.release = release
        self.in_waiting = 0

    def write(self, data: bytes) -> int:
        self.entered.set()
        self.release.wait()
        return len(data)

    def flush(self) -> None:
        pass

    def read(self, _n: int) -> bytes:
        time.sleep(0.02)
        return b""

    def close(self) -> None:
        pass


class FastForward:
    """Monotonic time that a test can move ahead, for a budget of minutes."""

    def __init__(self) -> None:
        self.ahead_s = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.ahead_s


def test_a_stuck_port_worker_stops_the_pings_and_is_named(
        tmp_path: Path, cache: Cache, config: Config, notify_socket: NotifySocket,
        caplog: pytest.LogCaptureFixture) -> None:
    entered, release = threading.Event(), threading.Event()

    def port(url: str, settings: Any) -> SerialPort:
        if url.startswith("stuck://"):
            return SerialPort(url, settings, opener=lambda *_a, **_k: StuckLine(entered, release))
        return SerialPort(url, settings, opener=serial.serial_for_url)

    lobby_sim = OnbonGraphicSimulator(BoardGeometry(64, 16), 1)
    lobby_host = PtyHost([lobby_sim], tmp_path / "ttyLOBBY")
    common: dict[str, Any] = {"protocol": "onbon-bx5e", "width": 64, "height": 16,
                              "timeout_s": 0.2, "refresh_s": 3600}
    boards = [BoardConfig(name="hall", port="stuck://hall", **common),
              BoardConfig(name="lobby", port=str(lobby_host.link), **common)]
    clock = FastForward()
    noon = dt.datetime(2026, 6, 15, 12)  # the fallback shows until midnight: no early wake
    driver = Driver(config, cache, boards=boards, ports=PortRegistry(port), monotonic=clock,
                    clock=lambda: noon, settings=DriverSettings(poll_s=3600, retry_initial_s=3600,
                                            retry_max_s=3600))
    dog = Watchdog(driver.stuck, 0.05, send=lambda m: notify(m, notify_socket.env),
                   service="board driver")
    runner = threading.Thread(target=driver.run, daemon=True)
    caplog.set_level(logging.INFO)
    runner.start()
    dog.start()
    try:
        assert entered.wait(10)  # hall's worker is inside a write that does not return
        assert eventually(lambda: bool(lobby_sim.pages))  # lobby's worker did its round
        # Within the send's budget (serial timeouts, wire time): still alive.
        assert notify_socket.during(0.3).count("WATCHDOG=1") >= 2
        assert driver.stuck() is None
        clock.ahead_s = 600  # hall's budget is about 90 s; lobby sleeps for an hour
        problem = driver.stuck()
        assert problem is not None and problem.startswith("board hall on stuck://hall: stuck")
        assert "sending to hall" in problem and "lobby" not in problem
        assert eventually(lambda: "board hall on stuck://hall: stuck" in caplog.text)
        notify_socket.during(0.1)  # a ping already on its way
        assert notify_socket.during(0.4) == []
        # The write returns (the adapter recovers): the worker turns again, pings resume.
        release.set()
        assert notify_socket.wait_for("WATCHDOG=1", 10)
        assert "healthy again" in caplog.text
    finally:
        release.set()
        driver.stop()
        runner.join(10)
        dog.stop()
        dog.join(5)
        lobby_host.close()
    assert not runner.is_alive()
    assert driver.stuck() is None  # stopped workers are never overdue


def test_heartbeats_keep_their_promise() -> None:
    clock = FastForward()
    hall, gate = Heartbeat("board hall on /dev/a", clock), Heartbeat("board gate on /dev/b", clock)
    hall.beat(10, "sending to hall")
    gate.beat(100, "waiting for the next update")
    assert stuck([hall, gate]) is None
    clock.ahead_s = 11
    assert stuck([hall, gate]) == ("board hall on /dev/a: stuck for 11 s sending to hall "
                                   "(allowed 10 s)")
    hall.finished()
    clock.ahead_s = 1000
    problem = stuck([hall, gate])
    assert problem is not None and problem.startswith("board gate on /dev/b: stuck for 1000 s")


def test_a_slow_frame_at_9600_baud_fits_the_send_budget() -> None:
    from display_driver.driver import Board

    cfg = BoardConfig(name="hall", protocol="onbon-bx5e", port="loop://", width=512,
                      height=64, baudrate=9600, timeout_s=1.0)
    board = Board(cfg)
    frames, _ = board.prepare("紧急通知：明日9:00-12:00停水，请提前储水。" * 4)
    wire = sum(board.serial.wire_time_s(len(f)) for f in frames)
    assert wire > 3  # several seconds on the wire
    budget = board.send_budget_s(frames)
    assert budget >= 2 * wire + len(frames) * cfg.timeout_s


# -- the hub ---------------------------------------------------------------------------
def _hub_dir(tmp_path: Path) -> Path:
    keys = init_keys(tmp_path / "keys")
    data_dir = tmp_path / "hubdata"
    paths = HubPaths(data_dir)
    HubRepository.install_root(paths.repo, keys.root_json.read_bytes())
    for name in ("snapshot.pem", "timestamp.pem"):
        write_private(paths.keys / name, (keys.hub_dir / name).read_bytes())
    return data_dir


def test_hub_serve_is_ready_then_pings_while_healthz_answers(
        tmp_path: Path, notify_socket: NotifySocket) -> None:
    data_dir = _hub_dir(tmp_path)
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    stderr = tmp_path / "hub.log"
    with stderr.open("w") as err:
        hub = subprocess.Popen([JUWU, "--data-dir", str(tmp_path), "hub", "serve",
                                "--data-dir", str(data_dir), "--host", "127.0.0.1",
                                "--port", str(port)], stdout=err, stderr=err,
                               env=service_env(notify_socket))
    try:
        notify_socket.wait_for("READY=1")
        # Ready means accepting connections: no retry loop needed.
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json() == {
            "status": "ok"}
        assert notify_socket.during(1.6).count("WATCHDOG=1") >= 2
        hub.send_signal(signal.SIGTERM)
        notify_socket.wait_for("STOPPING=1", 10)
        # uvicorn ends by re-raising the SIGTERM after its graceful shutdown (clean for
        # systemd, as exit 0 is).
        assert hub.wait(20) in (0, -signal.SIGTERM)
    finally:
        if hub.poll() is None:
            hub.kill()
            hub.wait(10)
    text = stderr.read_text()
    assert "GET /healthz" in text and "not pinging" not in text, text


class Healthz(http.server.BaseHTTPRequestHandler):
    """/healthz as a sick hub answers it: ``server.mode`` is "ok", "500" or "hang"."""

    def do_GET(self) -> None:
        mode = self.server.mode  # type: ignore[attr-defined]
        if mode == "hang":
            self.server.release.wait(10)  # type: ignore[attr-defined]
            return
        self.send_response(200 if mode == "ok" else 500)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}' if mode == "ok" else b"Internal Server Error")

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def healthz_server() -> Iterator[Any]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Healthz)
    server.mode = "ok"  # type: ignore[attr-defined]
    server.release = threading.Event()  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def test_the_hub_pinger_stops_when_healthz_fails_or_hangs(
        healthz_server: Any, notify_socket: NotifySocket,
        caplog: pytest.LogCaptureFixture) -> None:
    host, port = loopback_address(healthz_server.server_address)
    assert healthz_problem(host, port, 1) is None
    dog = Watchdog(lambda: healthz_problem(host, port, 0.2), 0.1,
                   send=lambda m: notify(m, notify_socket.env), service="hub")
    dog.start()
    try:
        assert notify_socket.during(0.5).count("WATCHDOG=1") >= 2
        healthz_server.mode = "500"
        assert eventually(lambda: "500 Internal Server Error" in caplog.text)
        notify_socket.during(0.1)
        assert notify_socket.during(0.5) == []
        healthz_server.mode = "hang"
        assert eventually(lambda: "no answer within 0.2 s" in caplog.text)
        notify_socket.during(0.1)
        assert notify_socket.during(0.5) == []
        healthz_server.mode = "ok"
        healthz_server.release.set()
        assert notify_socket.wait_for("WATCHDOG=1", 5)
    finally:
        dog.stop()
        dog.join(5)
    closed = free_socket()  # bound, not listening: connection refused
    try:
        problem = healthz_problem("127.0.0.1", closed.getsockname()[1], 1)
    finally:
        closed.close()
    assert problem is not None and "refused" in problem


def test_healthz_reads_the_database(hub: Hub) -> None:
    assert requests.get(f"{hub.url}/healthz", timeout=5).json() == {"status": "ok"}
    with sqlite3.connect(hub.data_dir / "hub.sqlite3") as db:  # the database breaks
        db.execute("DROP TABLE hub_feedback")
    reply = requests.get(f"{hub.url}/healthz", timeout=5)
    assert reply.status_code == 503 and reply.json()["status"] == "database unavailable"
    host, port = loopback_address(("0.0.0.0", int(hub.url.rsplit(":", 1)[1])))
    problem = healthz_problem(host, port, 2)
    assert problem is not None and "503" in problem and "database unavailable" in problem


def test_loopback_address() -> None:
    assert loopback_address(("0.0.0.0", 8470)) == ("127.0.0.1", 8470)
    assert loopback_address(("::", 8470, 0, 0)) == ("::1", 8470)
    assert loopback_address(("192.168.1.5", 80)) == ("192.168.1.5", 80)
