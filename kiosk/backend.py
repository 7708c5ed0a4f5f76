"""The kiosk's way to its data: the cache, opened on the worker thread, not at start.

Importing SQLAlchemy and the ORM models costs as much as starting Kivy itself
(bench/kiosk_bench.py). So the kiosk draws home first — from the home it saved last time,
when that is still exact (kiosk.home_snapshot) — and the worker opens the cache once that
frame is on the screen. Nothing here imports the database layer until :meth:`data`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from content.config import Config, local_now
from kiosk import home_snapshot
from kiosk.views import HomeView

if TYPE_CHECKING:
    from content.db import Cache
    from kiosk.data import KioskData


class Backend:
    """Opens the cache once, on first use (from the worker), and keeps home's snapshot.

    `cache`: an already open cache (tests, tools); otherwise the configured one is opened
    and closed here. `on_open` runs on the worker right after opening (the kiosk starts
    its periodic sync there, which needs the cache too).
    """

    def __init__(self, config: Config, *, now: Callable[[], dt.datetime] | None = None,
                 cache: Cache | None = None,
                 on_open: Callable[[Cache], None] | None = None) -> None:
        self.config = config
        self._now = now or (lambda: local_now(config))
        self._cache = cache
        self._owns_cache = cache is None
        self._on_open = on_open
        self._data: KioskData | None = None
        self._lock = threading.Lock()
        self._saved: HomeView | None = None
        self.snapshot_path = config.data_dir / home_snapshot.FILENAME

    def now(self) -> dt.datetime:
        return self._now()

    @property
    def is_open(self) -> bool:
        return self._data is not None

    def data(self) -> KioskData:
        """The cache's questions; opens the cache the first time (call off the UI thread).

        Raises:
            content.db.CacheError: the cache cannot be used (the message says why).
        """
        with self._lock:
            if self._data is None:
                from content.db import open_cache
                from kiosk.data import KioskData

                if self._cache is None:
                    self._cache = open_cache(self.config.database_path)
                self._data = KioskData(self._cache, self.config, now=self._now)
                if self._on_open is not None:
                    self._on_open(self._cache)
            return self._data

    def saved_home(self) -> HomeView | None:
        """Home as last saved, if still exact; cheap enough for the UI thread at start."""
        return home_snapshot.load(self.snapshot_path, self.config.database_path, self.now(),
                                  self.config.community.name)

    def home(self) -> HomeView:
        """Home read from the cache, saved for the next start when it changed."""
        view = self.data().home()
        if view != self._saved:  # once per change, also when saving fails (one warning)
            home_snapshot.save(self.snapshot_path, view, self.config.community.name)
            self._saved = view
        return view

    def close(self) -> None:
        with self._lock:
            if self._owns_cache and self._cache is not None:
                self._cache.close()
            self._cache = None
            self._data = None
