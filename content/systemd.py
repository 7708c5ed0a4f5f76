"""systemd's notify protocol, for ``Type=notify`` and ``WatchdogSec=`` (docs/operations.md).

Each long-running juwu process says "READY=1" once it does its job, "STOPPING=1" when it
begins a clean stop, and "WATCHDOG=1" every half watchdog period, but only while its own
liveness check passes, so a hang (not just a dead process) gets it restarted: the kiosk
from its UI clock, the driver when every port worker turns (display_driver.liveness), the
hub when its /healthz answers (content.hub.serve). Nothing is sent when
``$NOTIFY_SOCKET`` is unset (not under systemd).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping

log = logging.getLogger("juwu.watchdog")

Check = Callable[[], str | None]
"""A liveness check: None when healthy, else why not (in an operator's words)."""


def notify(message: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send `message` to systemd; False when not under systemd or the send fails."""
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message.encode(), address)
    except OSError:
        return False
    return True


def watchdog_interval_s(environ: Mapping[str, str] | None = None) -> float | None:
    """Half of ``$WATCHDOG_USEC`` (when systemd expects pings, and they are for us)."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) <= 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000


class Watchdog:
    """A thread that sends "WATCHDOG=1" every ``interval_s`` while ``check`` passes.

    When the check fails it logs why (once per distinct reason) and withholds pings, so
    systemd kills and restarts the service after ``WatchdogSec``; if the check passes
    again first, pings resume and that is logged too.
    """

    def __init__(self, check: Check, interval_s: float, *,
                 send: Callable[[str], object] = notify, service: str = "juwu") -> None:
        self.check = check
        self.interval_s = interval_s
        self.service = service
        self._send = send
        self._stop = threading.Event()
        self._problem: str | None = None
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"{service}-watchdog")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop pinging (does not wait for a check in progress; see :meth:`join`)."""
        self._stop.set()

    def join(self, timeout_s: float | None = None) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def tick(self) -> bool:
        """One check; pings if it passes. True when pinged."""
        try:
            problem = self.check()
        except Exception as e:  # a broken check must not look healthy, nor kill the thread
            problem = f"the liveness check failed: {e!r}"
        if problem is None:
            if self._problem is not None:
                log.warning("%s: healthy again; watchdog pings resume", self.service)
            self._problem = None
            self._send("WATCHDOG=1")
            return True
        if problem != self._problem:
            log.error("%s: %s; not pinging systemd's watchdog, so systemd restarts the "
                      "service unless this clears within WatchdogSec", self.service, problem)
        self._problem = problem
        return False

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.tick()
            # Keep the beat even when a check takes a while (it must stay under interval_s).
            next_at = max(next_at + self.interval_s, time.monotonic())
            self._stop.wait(next_at - time.monotonic())


__all__ = ["Check", "Watchdog", "notify", "watchdog_interval_s"]
