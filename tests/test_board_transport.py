"""display_driver.transport against real ptys, TCP and loop:// with simulators behind them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from display_driver.protocols import AlphaSign, BoardGeometry, OnbonGraphic, ReplyKind, onbon
from display_driver.render import default_renderer
from display_driver.simhost import PtyHost, TcpHost
from display_driver.simulator import Faults, OnbonGraphicSimulator, make_simulator
from display_driver.transport import (
    Backoff,
    BadReply,
    PortRegistry,
    PortUnavailable,
    ReplyTimeout,
    SerialPort,
)

G = BoardGeometry(64, 16)


def board(address: int = 1) -> OnbonGraphic:
    return OnbonGraphic(G, address)


def ack_from(address: int) -> bytes:
    header = onbon.Gen5Header(onbon.SRC_ADDR_PC, src=address)
    return onbon.encode_frame(header, onbon.gen5_ack().encode())


class Events:
    """A PortListener that records what it was told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def connection_made(self, url: str) -> None:
        self.events.append(("made", url))

    def connection_lost(self, url: str, exc: BaseException | None) -> None:
        self.events.append(("lost", type(exc).__name__ if exc else "clean"))


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[tuple[PtyHost, list[OnbonGraphicSimulator]]]:
    sims = [OnbonGraphicSimulator(G, 1), OnbonGraphicSimulator(G, 2)]
    host = PtyHost(sims, tmp_path / "ttyUSB0")
    yield host, sims
    host.close()


def test_loop_url_reads_replies_through_the_parser_and_skips_foreign_ones() -> None:
    port = SerialPort("loop://", board().default_serial)
    # loop:// echoes what we write, so "sending" two replies makes them arrive
    ex = port.exchange([ack_from(2) + ack_from(1)], board().reply_parser(), reply_from=1)
    (reply,) = ex.replies
    assert reply.kind is ReplyKind.ACK and reply.source_address == 1
    assert ex.ignored == ["reply from address 2"]
    ex = port.exchange([b"\xa5\xa5junk"], None)
    assert ex.bytes_written == 6 and ex.replies == []
    port.close()


def test_pty_ping_and_show_reach_the_right_board_on_a_shared_bus(
        bus: tuple[PtyHost, list[OnbonGraphicSimulator]]) -> None:
    host, (one, two) = bus
    registry = PortRegistry()
    port = registry.get(str(host.link), board().default_serial)
    assert registry.get(str(host.link), board(2).default_serial) is port  # one owner
    pages = default_renderer().render("停水通知", 64, 16).pages
    ex = port.exchange(board(2).encode_show(pages), board(2).reply_parser(), reply_from=2)
    assert ex.replies[0].kind is ReplyKind.ACK and ex.replies[0].source_address == 2
    assert two.pages == pages and one.pages == ()
    ex = port.exchange([board(1).encode_ping()], board(1).reply_parser(), reply_from=1)
    assert ex.replies[0].source_address == 1
    registry.close_all()
    assert not port.is_open


def test_silent_and_refusing_boards(bus: tuple[PtyHost, list[OnbonGraphicSimulator]]) -> None:
    host, (one, _) = bus
    port = SerialPort(str(host.link), board().default_serial)
    one.faults = Faults(drop_replies=True)
    with pytest.raises(ReplyTimeout, match=r"at address 1 .* did not answer within 0\.05 s"):
        port.exchange([board().encode_ping()], board().reply_parser(), timeout_s=0.05,
                      reply_from=1)
    one.faults = Faults(nack_error=3)
    with pytest.raises(BadReply, match="busy") as err:
        port.exchange([board().encode_ping()], board().reply_parser(), reply_from=1)
    assert err.value.reply.kind is ReplyKind.NACK
    one.faults = Faults(corrupt_reply_crc=True)
    with pytest.raises(ReplyTimeout, match="garbled reply: CRC mismatch"):
        port.exchange([board().encode_ping()], board().reply_parser(), timeout_s=0.05,
                      reply_from=1)
    one.faults = Faults()
    assert port.is_open  # a silent board is not a lost port
    assert port.exchange([board().encode_ping()], board().reply_parser(),
                         reply_from=1).replies[0].ok
    port.close()


def test_unplugged_adapter_is_reported_and_reconnects_with_backoff(
        bus: tuple[PtyHost, list[OnbonGraphicSimulator]]) -> None:
    host, _ = bus
    clock = FakeMonotonic()
    port = SerialPort(str(host.link), board().default_serial,
                      backoff=Backoff(initial_s=1.0, max_s=4.0), clock=clock)
    events = Events()
    port.listeners.append(events)
    ping = [board().encode_ping()]
    assert port.exchange(ping, board().reply_parser(), reply_from=1).replies[0].ok
    host.unplug()
    with pytest.raises(PortUnavailable, match="lost during an exchange"):
        port.exchange(ping, board().reply_parser(), reply_from=1)
    assert events.events[-1] in {("lost", "SerialException"), ("lost", "OSError")}
    assert not port.is_open
    with pytest.raises(PortUnavailable, match=r"next attempt in 1\.00 s"):
        port.exchange(ping, board().reply_parser(), reply_from=1)
    clock.t += 1.0
    with pytest.raises(PortUnavailable, match="no such device"):  # still unplugged
        port.exchange(ping, board().reply_parser(), reply_from=1)
    assert port.backoff.delay_s == 2.0
    host.plug()  # the adapter comes back (a new pty behind the same path)
    with pytest.raises(PortUnavailable, match="next attempt"):
        port.exchange(ping, board().reply_parser(), reply_from=1)
    clock.t += 2.0
    assert port.exchange(ping, board().reply_parser(), reply_from=1).replies[0].ok
    assert events.events[-1] == ("made", str(host.link))
    assert port.backoff.delay_s == 0.0
    port.close()
    assert events.events[-1] == ("lost", "clean")


def test_backoff_grows_to_its_cap() -> None:
    b = Backoff(initial_s=0.5, max_s=3.0)
    assert [b.failed(0) for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    b.succeeded()
    assert b.ready(0) and b.failed(10) == 0.5 and not b.ready(10.4)


def test_one_owner_per_port_and_clear_open_errors(
        tmp_path: Path, bus: tuple[PtyHost, list[OnbonGraphicSimulator]]) -> None:
    host, _ = bus
    first = SerialPort(str(host.link), board().default_serial)
    first.open()
    second = SerialPort(str(host.link), board().default_serial)
    with pytest.raises(PortUnavailable, match="port busy"):
        second.open()
    first.close()
    missing = SerialPort(str(tmp_path / "ttyUSB9"), board().default_serial)
    with pytest.raises(PortUnavailable, match=r"no such device .*ls /dev/serial/by-id"):
        missing.open()
    reg = PortRegistry()
    reg.get("loop://", board().default_serial)
    with pytest.raises(ValueError, match="same serial settings"):
        reg.get("loop://", AlphaSign.default_serial)


def test_tcp_socket_url() -> None:
    host = TcpHost([make_simulator("onbon-bx5e", 64, 16, 1)])
    try:
        port = SerialPort(host.url, board().default_serial)
        ex = port.exchange([board().encode_ping()], board().reply_parser(), reply_from=1)
        assert ex.replies[0].ok
        port.close()
    finally:
        host.close()


def test_concurrent_exchanges_on_one_bus_never_interleave(
        bus: tuple[PtyHost, list[OnbonGraphicSimulator]]) -> None:
    host, sims = bus
    port = SerialPort(str(host.link), board().default_serial)
    errors: list[BaseException] = []

    def hammer(address: int) -> None:
        b = board(address)
        pages = default_renderer().render(f"第{address}块屏", 64, 16).pages
        try:
            for _ in range(15):
                ex = port.exchange(b.encode_show(pages), b.reply_parser(), reply_from=address)
                assert ex.replies[0].source_address == address
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=hammer, args=(a,)) for a in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == []
    assert all(s.errors == [] for s in sims)
    port.close()
