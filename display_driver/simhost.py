"""Virtual boards on a real wire: a pseudo-terminal or a TCP port on 127.0.0.1 with one
or more simulators behind it (several addresses = an RS-485 bus).

Used by ``juwu board simulate`` for demos and by the tests, which talk to it through the
same :class:`~display_driver.transport.SerialPort` as real boards. The pty is reached
through a stable symlink, so "unplugging" (the pty vanishes) and "plugging back" (a new
pty behind the same path) look to the driver like a USB-serial adapter coming and going.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
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
                 on_change: Callable[[], None] | None = None) -> None:
        self.simulators = list(simulators)
        self.changed = threading.Condition()
        self.received = 0
        self.on_change = on_change
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def handle(self, data: bytes) -> bytes:
        with self.changed:
            out = b"".join(sim.feed(data) for sim in self.simulators)
            self.received += len(data)
            self.changed.notify_all()
        if self.on_change is not None:
            self.on_change()
        return out

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
        with self.changed:
            return self.changed.wait_for(predicate, timeout_s)

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
                 on_change: Callable[[], None] | None = None) -> None:
        super().__init__(simulators, on_change)
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

    def _serve(self) -> None:
        master = self._master
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], POLL_S)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:
                continue  # nobody has the other end open right now
            reply = self.handle(data)
            if reply:
                with contextlib.suppress(OSError):
                    os.write(master, reply)


class TcpHost(SimulatorHost):
    """Simulators behind a TCP port on 127.0.0.1 (pyserial URL ``socket://127.0.0.1:N``)."""

    def __init__(self, simulators: Sequence[Simulator], port: int = 0,
                 on_change: Callable[[], None] | None = None) -> None:
        super().__init__(simulators, on_change)
        self._server = socket.create_server(("127.0.0.1", port))
        self._server.settimeout(POLL_S)
        self.port = self._server.getsockname()[1]
        self._start(self._serve)

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._join()
        self._server.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(POLL_S)
                while not self._stop.is_set():
                    try:
                        data = conn.recv(65536)
                    except TimeoutError:
                        continue
                    except OSError:
                        break
                    if not data:
                        break
                    reply = self.handle(data)
                    if reply:
                        try:
                            conn.sendall(reply)
                        except OSError:
                            break
