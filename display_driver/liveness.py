"""Is the driver alive? Each port worker's heartbeat, for systemd's watchdog.

A worker beats whenever its loop moves on (a turn, each board, each send, before it
sleeps), each time promising the next beat within the longest that the step ahead may
legitimately block: a send's budget counts its serial timeouts and wire time at the
configured baud, so a several-second frame at 9600 baud or a silent, faulted or unplugged
board (which the driver handles itself) never looks like a hang. A worker that misses its
promise is stuck (a serial driver that never returns, a deadlock), and the driver's
watchdog check names its boards so the journal says which port hung.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence

TURN_BUDGET_S = 30.0
"""A turn's work besides the wire: cache reads and writes (SQLite waits up to 5 s for a
lock per statement, content.db) and rendering a text; generous, since a false alarm
restarts the driver."""


class Heartbeat:
    """One worker's last beat: when, what it was about to do, and by when it beats again."""

    def __init__(self, who: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.who = who
        self._clock = clock
        now = clock()
        # One tuple, replaced whole: the watchdog thread reads it without a lock.
        self._last: tuple[float, float, str] = (now, now + TURN_BUDGET_S, "starting")

    def beat(self, within_s: float, doing: str) -> None:
        """The worker is alive now, and beats again within ``within_s`` seconds."""
        now = self._clock()
        self._last = (now, now + within_s, doing)

    def finished(self) -> None:
        """The worker ended normally (the driver is stopping): never overdue."""
        self._last = (self._clock(), math.inf, "stopped")

    def overdue(self) -> str | None:
        """None while the promise holds, else how long the worker has been stuck, and where."""
        at, due, doing = self._last
        now = self._clock()
        if now <= due:
            return None
        return f"{self.who}: stuck for {now - at:.0f} s {doing} (allowed {due - at:.0f} s)"


def stuck(heartbeats: Iterable[Heartbeat]) -> str | None:
    """The watchdog check: None when every worker is on time, else who is stuck."""
    late = [p for p in (h.overdue() for h in heartbeats) if p is not None]
    return "; ".join(late) or None


def describe_port(url: str, boards: Sequence[str]) -> str:
    """How a worker is named in the journal: its boards first, then the port."""
    noun = "board" if len(boards) == 1 else "boards"
    return f"{noun} {', '.join(boards)} on {url}"
