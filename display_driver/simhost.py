"""Virtual boards on a real wire: a pseudo-terminal or a TCP port on 127.0.0.1 with one
or more simulators behind it (several addresses = an RS-485 bus).

Used by ``juwu board simulate`` for demos and by the tests, which talk to it through the
same :class:`~display_driver.transport.SerialPort` as real boards. The pty is reached
through a stable symlink, so "unplugging" (the pty vanishes) and "plugging back" (a new
pty behind the same path) look to the driver like a USB-serial adapter coming and going.

Line faults live here, next to the wire: a slow link (``bytes_per_s``: what arrives is
handed to the boards only when it would have crossed a line that fast, and replies travel
back as slowly), unplugging (``unplug``/``plug``, for TCP too) and unsolicited bytes
(``inject``). Linux ptys accept a termios baud rate but ignore it, so pacing here is what
makes a pty behave like a 9600-baud line.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
import tty
from collections.abc import Callable, Sequence
from pathlib import Path

from .simulator import Simulator

POLL_S = 0.02


class SimulatorHost:
    """Feeds what arrives on the wire to every simulator and writes back their replies.

    ``changed`` is a condition notified after every chunk handled, so tests wait for a
    state (``wait_for``) instead of sleeping.
    """

    def __init__(self, simulators: Sequence[Simulator],
                 on_change: Callable[[], None] | None = None,
                 bytes_per_s: float | None = None) -> None:
        self.simulators = list(simulators)
        self.changed = threading.Condition()
        self.received = 0
        self.sent = 0
        self.busy = False  # between reading a chunk and writing its replies
        self.on_change = on_change
        self.bytes_per_s = bytes_per_s
        """Slow link: bytes per second in each direction (None: as fast as the pty)."""
        self.handle_s = 0.0  # time the boards spent decoding and answering (the bench)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rx_line_free = 0.0
        self._tx_line_free = 0.0
        self._inject: list[bytes] = []

    def handle(self, data: bytes) -> bytes:
        started = time.perf_counter()
        with self.changed:
            out = b"".join(sim.feed(data) for sim in self.simulators)
            self.received += len(data)
            self.handle_s += time.perf_counter() - started
            self.changed.notify_all()
        if self.on_change is not None:
            self.on_change()
        return out

    def inject(self, data: bytes) -> None:
        """Put bytes on the wire towards the driver, unasked (noise, a stray reply)."""
        with self.changed:
            self._inject.append(data)

    def _take_injected(self) -> bytes:
        with self.changed:
            out, self._inject = b"".join(self._inject), []
        return out

    def _pace(self, nbytes: int, inbound: bool) -> None:
        """Wait until ``nbytes`` would have crossed the slow link (a simulated line, not a
        correctness sleep); returns at once without ``bytes_per_s``."""
        bps = self.bytes_per_s
        if not bps or nbytes <= 0:
            return
        now = time.monotonic()
        free = self._rx_line_free if inbound else self._tx_line_free
        done = max(free, now) + nbytes / bps
        if inbound:
            self._rx_line_free = done
        else:
            self._tx_line_free = done
        while self.bytes_per_s == bps and not self._stop.is_set():
            left = done - time.monotonic()
            if left <= 0:
                return
            self._stop.wait(min(left, POLL_S))  # a change of speed applies at once
        self._rx_line_free = self._tx_line_free = 0.0

    def _exchange(self, data: bytes, write: Callable[[bytes], None]) -> None:
        """Hand ``data`` to the boards once it crossed the line; write back their replies."""
        with self.changed:
            self.busy = True
        try:
            self._pace(len(data), inbound=True)
            reply = self.handle(data)
            self._pace(len(reply), inbound=False)
            if reply and not self._stop.is_set():
                write(reply)
                self.sent += len(reply)
        finally:
            with self.changed:
                self.busy = False
                self.changed.notify_all()

    def idle(self) -> bool:
        """Nothing being read, paced or answered right now (call under ``changed``)."""
        return not self.busy

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
        with self.changed:
            return self.changed.wait_for(predicate, timeout_s)

    @property
    def plugged(self) -> bool:
        return True

    def plug(self) -> str:
        """Make the line available again; returns where the driver reaches it."""
        raise NotImplementedError

    def unplug(self) -> None:
        """Take the line away, as an unplugged adapter or a serial server switched off."""
        raise NotImplementedError

    def close(self) -> None:
        self.unplug()

    def _start(self, target: Callable[[], None]) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=target, name=type(self).__name__, daemon=True)
        self._thread.start()

    def _join(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None


class PtyHost(SimulatorHost):
    """Simulators behind a pseudo-terminal, reachable at ``link`` (a symlink to the pty)."""

    def __init__(self, simulators: Sequence[Simulator], link: str | Path,
                 on_change: Callable[[], None] | None = None,
                 bytes_per_s: float | None = None) -> None:
        super().__init__(simulators, on_change, bytes_per_s)
        self.link = Path(link)
        self._master = -1
        self._slave = -1
        self.plug()

    @property
    def plugged(self) -> bool:
        return self._master >= 0

    def plug(self) -> str:
        """Create a fresh pty behind ``link`` and serve it; returns the pty's own path."""
        if self.plugged:
            return os.ttyname(self._slave)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line editing before the driver opens it
        path = os.ttyname(self._slave)
        tmp = self.link.with_name(self.link.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(path)
        tmp.replace(self.link)
        self._start(self._serve)
        return path

    def unplug(self) -> None:
        """The adapter vanishes: the pty closes and the path disappears."""
        self._join()
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1

    close = unplug

    def inject(self, data: bytes) -> None:
        """Unasked bytes, written at once: they are waiting at the driver's end on return."""
        if self.plugged:
            os.write(self._master, data)

    def _serve(self) -> None:
        master = self._master
        while not self._stop.is_set():
            extra = self._take_injected()
            if extra:
                with contextlib.suppress(OSError):
                    os.write(master, extra)
            ready, _, _ = select.select([master], [], [], POLL_S)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:
                continue  # nobody has the other end open right now
            self._exchange(data, lambda reply: _write_quietly(master, reply))


class TcpHost(SimulatorHost):
    """Simulators behind a TCP port on 127.0.0.1 (pyserial URL ``socket://127.0.0.1:N``),
    like a serial server; ``unplug`` closes the connection and stops listening."""

    def __init__(self, simulators: Sequence[Simulator], port: int = 0,
                 on_change: Callable[[], None] | None = None,
                 bytes_per_s: float | None = None) -> None:
        super().__init__(simulators, on_change, bytes_per_s)
        self.port = port
        self._server: socket.socket | None = None
        self.plug()

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    @property
    def plugged(self) -> bool:
        return self._server is not None

    def plug(self) -> str:
        """Listen (again, on the same port once one was chosen); returns the URL."""
        if self._server is None:
            self._server = socket.create_server(("127.0.0.1", self.port))
            self._server.settimeout(POLL_S)
            self.port = self._server.getsockname()[1]
            self._start(self._serve)
        return self.url

    def unplug(self) -> None:
        """The serial server goes away: connection closed, nothing listening."""
        self._join()
        if self._server is not None:
            self._server.close()
            self._server = None

    close = unplug

    def _serve(self) -> None:
        server = self._server
        assert server is not None
        while not self._stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(POLL_S)
                self._talk(conn)

    def _talk(self, conn: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                extra = self._take_injected()
                if extra:
                    conn.sendall(extra)
                data = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            try:
                self._exchange(data, conn.sendall)
            except OSError:
                return


def _write_quietly(fd: int, data: bytes) -> None:
    with contextlib.suppress(OSError):  # nobody has the other end open right now
        os.write(fd, data)
