"""Periodic sync for the long-running processes (`juwu board run`, the kiosk).

One round is what `juwu sync` does: `sync` (fetch, verify, apply) and then the outbox
relay. Between rounds the loop waits `sync.poll_interval_s` plus a random
0..`sync.poll_jitter_s`, so a district's devices, started together after a power cut,
spread out instead of arriving at the hub at once (the first round, too, waits 0..jitter).
While the hub is unreachable (or the device has a local problem) the wait doubles each
round, up to `sync.poll_backoff_max_s`: a hub that is down for days costs each device a
request an hour, not one a minute. The first good round after failures relays the outbox
at once (the hub is evidently back), whatever the outbox's own backoff says.

The loop never raises: whatever a round does, the content a device shows is the last
verified one (sync only commits verified bundles, in one transaction). Time is injected
(`wait`, `clock`, `rng`) so tests run days of outage in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

from content.config import Config
from content.db import Cache
from content.sync.client import HubFetcher, SyncOutcome, SyncStatus, make_session, sync
from content.sync.outbox import RelayReport, relay

log = logging.getLogger(__name__)
FAILING = frozenset({SyncStatus.UNREACHABLE, SyncStatus.FAILED})
Wait = Callable[[float], bool]  # wait up to N seconds; True means "stop now"


@dataclass(frozen=True)
class Round:
    """What one round did and how long the loop waits before the next."""

    outcome: SyncOutcome
    relay: RelayReport | None
    failures: int  # consecutive failing rounds, this one included
    delay_s: float


class PeriodicSync:
    """`sync` + relay every poll interval (jittered), backing off while the hub is down."""

    def __init__(self, config: Config, cache: Cache, *, wait: Wait | None = None,
                 clock: Callable[[], dt.datetime] | None = None,
                 rng: random.Random | None = None) -> None:
        self.config = config
        self.cache = cache
        self._stop = threading.Event()
        self._wait: Wait = wait or self._stop.wait
        self.clock = clock
        self.rng = rng or random.Random()
        self.failures = 0
        self.rounds: list[Round] = []
        self.thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def base_delay(self, failures: int) -> float:
        """The wait before jitter: the interval, doubled per consecutive failure, capped."""
        cfg = self.config.sync
        if failures <= 0:
            return cfg.poll_interval_s
        cap = max(cfg.poll_backoff_max_s, cfg.poll_interval_s)
        return float(min(cap, cfg.poll_interval_s * 2.0 ** min(failures - 1, 60)))

    def jitter(self) -> float:
        return self.rng.uniform(0.0, max(self.config.sync.poll_jitter_s, 0.0))

    def step(self) -> Round:
        """One round (sync, then relay). Never raises."""
        outcome = self._sync()
        report = None
        recovered = self.failures > 0 and outcome.status in (SyncStatus.UPDATED,
                                                             SyncStatus.UNCHANGED)
        if outcome.status not in (SyncStatus.NOT_CONFIGURED, SyncStatus.BUSY) \
                and outcome.reason != "network":  # BUSY: the other sync relays
            report = self._relay(force=recovered)
        self.failures = self.failures + 1 if outcome.status in FAILING else 0
        delay = self.base_delay(self.failures) + self.jitter()
        if outcome.status is SyncStatus.UPDATED:
            log.info("periodic sync: %s", outcome.message)
        r = Round(outcome, report, self.failures, delay)
        self.rounds.append(r)
        del self.rounds[:-100]  # a bounded history for status and tests
        return r

    def _sync(self) -> SyncOutcome:
        try:
            session = make_session(self.config.sync)
            try:
                return sync(self.config, self.cache, clock=self.clock,
                            fetcher=HubFetcher(self.config.sync, session))
            finally:
                session.close()
        except Exception as e:  # a loop that dies silently would freeze a device's content
            log.exception("periodic sync: unexpected error")
            return SyncOutcome(SyncStatus.FAILED, f"unexpected error: {e!r}", "local")

    def _relay(self, *, force: bool) -> RelayReport | None:
        try:
            session = make_session(self.config.sync)
            try:
                return relay(self.config, self.cache, session, clock=self.clock, force=force)
            finally:
                session.close()
        except Exception:
            log.exception("periodic sync: outbox relay failed unexpectedly")
            return None

    def run(self) -> None:
        """Rounds until `stop` (or an injected `wait` says stop). Never raises."""
        if self._wait(self.jitter()) or self.stopping:
            return
        while True:
            r = self.step()
            if self._wait(r.delay_s) or self.stopping:
                return

    def start(self) -> threading.Thread:
        """Run in a daemon thread (a kill mid-sync is safe: old content or new)."""
        self.thread = threading.Thread(target=self.run, name="juwu-periodic-sync",
                                       daemon=True)
        self.thread.start()
        return self.thread

    def stop(self) -> None:
        """Ask the loop to end (safe from a signal handler: does not block)."""
        self._stop.set()

    def join(self, timeout_s: float = 30.0) -> bool:
        """Wait for a round in progress to finish; True if the thread ended. Bounded: every
        request has its timeouts, and past the bound the daemon thread is abandoned (a
        kill mid-sync leaves old content or new)."""
        if self.thread is None or self.thread is threading.current_thread():
            return True
        self.thread.join(timeout_s)
        if self.thread.is_alive():
            log.warning("periodic sync still busy after %.0f s; leaving it", timeout_s)
            return False
        return True
