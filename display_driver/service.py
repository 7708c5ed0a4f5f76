"""``juwu board run`` under systemd (``Type=notify``, ``WatchdogSec=``; docs/operations.md).

"READY=1" once the boards are set up (cache prepared, ports registered); "WATCHDOG=1"
every half watchdog period while :meth:`Driver.stuck` finds every port worker on time, so
a worker stuck in a serial call gets the driver restarted, while a faulted or unplugged
board (handled by the driver, with backoff) does not; "STOPPING=1" when a signal asks it
to stop. Outside systemd nothing is sent.
"""

from __future__ import annotations

from collections.abc import Mapping

from content.systemd import Watchdog, notify, watchdog_interval_s

from .driver import Driver

JOIN_S = 5.0


def run_service(driver: Driver, *, once: bool = False,
                environ: Mapping[str, str] | None = None) -> None:
    """Run the driver (see :meth:`Driver.run`), telling systemd how it goes."""
    driver.start()
    notify("READY=1", environ)
    interval = None if once else watchdog_interval_s(environ)
    watchdog = None
    if interval:
        watchdog = Watchdog(driver.stuck, interval, send=lambda m: notify(m, environ),
                            service="board driver")
        watchdog.start()
    try:
        driver.run(once=once)
    finally:
        if watchdog is not None:
            watchdog.stop()
            watchdog.join(JOIN_S)


def stop_service(driver: Driver, environ: Mapping[str, str] | None = None) -> None:
    """What SIGTERM/SIGINT do: tell systemd the stop has begun, then stop the driver."""
    notify("STOPPING=1", environ)
    driver.stop()
