"""The kiosk's recent log lines, kept in memory for the admin screen.

The journal has everything (journalctl -u juwu-kiosk), but staff at the kiosk have no
shell: the admin screen shows the last lines of this process (what sync, the outbox and
the screens said), newest first. Bounded, so it costs the same after months.
"""

from __future__ import annotations

import logging
from collections import deque

KEEP = 200


class RecentLog(logging.Handler):
    """A logging handler that keeps the last `keep` formatted records (thread-safe: the
    worker and the sync thread log too; deque appends are atomic, the handler lock covers
    the formatting)."""

    def __init__(self, keep: int = KEEP, level: int = logging.INFO) -> None:
        super().__init__(level)
        self._lines: deque[str] = deque(maxlen=keep)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                            datefmt="%m-%d %H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a record that cannot be formatted must not break the caller
            line = f"{record.levelname} {record.name}: {record.msg!r}"
        self._lines.append(line.splitlines()[0] if record.exc_info else line)

    def newest(self, n: int) -> list[str]:
        """The last `n` lines, newest first."""
        return list(reversed(self._lines))[:n]


__all__ = ["RecentLog"]
