"""Blocking work (the cache, writes) off the UI thread; results come back via the Clock.

One worker thread: the cache is SQLite, so queries would queue on its lock anyway, and one
thread keeps results in the order they were asked for. A screen that only wants the answer
to its latest question (search as you type) compares the ticket it got back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

from kivy.clock import Clock

log = logging.getLogger(__name__)
T = TypeVar("T")


class Worker:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-io")
        self._lock = threading.Lock()
        self.pending = 0

    def submit(self, fn: Callable[[], T], done: Callable[[T], None],
               failed: Callable[[BaseException], None], *, wait_s: float = 0.0) -> Future[T]:
        """Run `fn` on the worker; call `done(result)` or `failed(error)` on the UI thread.

        With `wait_s`, the UI thread waits that long for the answer and, if it comes, hands
        it over at once: drawn in this frame rather than a "loading" frame first and the
        data a frame later. Work that takes longer lands through the Clock as always.
        """
        with self._lock:
            self.pending += 1
        delivered = False

        def on_ui(_dt: float = 0.0) -> None:
            nonlocal delivered
            with self._lock:
                if delivered:
                    return
                delivered = True
                self.pending -= 1
            error = future.exception()
            if error is not None:
                failed(error)
            else:
                done(future.result())

        future = self._pool.submit(fn)
        future.add_done_callback(lambda _f: Clock.schedule_once(on_ui, 0))
        if wait_s > 0 and wait([future], timeout=wait_s).done:
            on_ui()
        return future

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


__all__ = ["Worker", "describe"]
