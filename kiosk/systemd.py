"""systemd's notify protocol, for ``Type=notify`` and ``WatchdogSec=`` (docs/kiosk.md).

"READY=1" once the first frame is drawn; "WATCHDOG=1" from the UI thread's clock, so a UI
loop that hangs (not just a dead process) gets the kiosk restarted. Nothing happens when
``$NOTIFY_SOCKET`` is unset (not under systemd).
"""

from __future__ import annotations

import os
import socket


def notify(message: str, environ: dict[str, str] | None = None) -> bool:
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


def watchdog_interval_s(environ: dict[str, str] | None = None) -> float | None:
    """Half of ``$WATCHDOG_USEC`` (when systemd expects pings, and they are for us)."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) <= 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000


__all__ = ["notify", "watchdog_interval_s"]
