"""``juwu hub serve``: uvicorn, under systemd (``Type=notify``, ``WatchdogSec=``).

"READY=1" once the listening socket accepts connections; then a watchdog thread GETs the
hub's own /healthz over loopback every half watchdog period, with a short timeout, and
pings systemd only on a 200. /healthz is answered from the thread pool after a query of
the database, so a hung event loop, an exhausted thread pool or a database that does not
answer all stop the pings and get the hub restarted, not only a dead process.
"STOPPING=1" when uvicorn begins its graceful shutdown. Outside systemd nothing is sent.
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Mapping
from typing import Any

import uvicorn

from content.systemd import Watchdog, notify, watchdog_interval_s

HEALTHZ_TIMEOUT_S = 5.0
"""At most this long for /healthz (well under the ping interval of a 60 s WatchdogSec)."""
JOIN_S = 10.0


def healthz_problem(host: str, port: int, timeout_s: float = HEALTHZ_TIMEOUT_S) -> str | None:
    """The watchdog check: None when ``GET /healthz`` answers 200 in time, else why not.

    Plain http.client on purpose: no proxy from the environment, no retries.
    """
    conn = http.client.HTTPConnection(host, port, timeout=timeout_s)
    where = f"GET http://{_netloc(host, port)}/healthz"
    try:
        conn.request("GET", "/healthz")
        reply = conn.getresponse()
        body = reply.read(200).decode("utf-8", "replace")
    except TimeoutError:
        return f"{where}: no answer within {timeout_s:g} s (event loop, thread pool or " \
               "database hung?)"
    except (OSError, http.client.HTTPException) as e:
        return f"{where}: {str(e) or type(e).__name__}"
    finally:
        conn.close()
    if reply.status != 200:
        return f"{where}: {reply.status} {body.strip()}"
    return None


def loopback_address(sockname: Any) -> tuple[str, int]:
    """Where this process reaches its own listening socket (a wildcard means loopback)."""
    host, port = sockname[0], int(sockname[1])
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return host, port


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class NotifyingServer(uvicorn.Server):
    """A uvicorn server that tells systemd when it is ready and keeps its watchdog fed."""

    def __init__(self, config: uvicorn.Config, environ: Mapping[str, str] | None = None
                 ) -> None:
        super().__init__(config)
        self.environ = environ
        self.watchdog: Watchdog | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.started or self.should_exit:
            return
        notify("READY=1", self.environ)
        interval = watchdog_interval_s(self.environ)
        if interval:
            host, port = loopback_address(self.servers[0].sockets[0].getsockname())
            timeout = min(HEALTHZ_TIMEOUT_S, interval * 0.8)  # a ping within each period
            self.watchdog = Watchdog(lambda: healthz_problem(host, port, timeout), interval,
                                     send=lambda m: notify(m, self.environ), service="hub")
            self.watchdog.start()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        notify("STOPPING=1", self.environ)
        if self.watchdog is not None:
            self.watchdog.stop()  # joined after the loop ends: never block the loop
        await super().shutdown(sockets)


def serve(app: Any, host: str, port: int, environ: Mapping[str, str] | None = None) -> bool:
    """Serve until SIGINT/SIGTERM (as ``uvicorn.run``); False when it never started
    (the port is taken, say: uvicorn has logged why)."""
    server = NotifyingServer(uvicorn.Config(app, host=host, port=port, proxy_headers=True,
                                            log_level="info"), environ)
    try:
        server.run()
    finally:
        if server.watchdog is not None:
            server.watchdog.stop()
            server.watchdog.join(JOIN_S)
    return server.started
