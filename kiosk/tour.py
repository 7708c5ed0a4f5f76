"""Screenshots mode: visit every screen with the configured cache, save a PNG of each, exit.

Each step acts on the app like a resident would (through the same methods the buttons
call), waits until the worker has answered and a few frames are drawn, then saves
``NN-name.png``. Nothing is written to the cache: questions and ratings are filled in but
not submitted.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window

log = logging.getLogger(__name__)
SETTLE_FRAMES = 4
SETTLE_S = 0.4  # longer than the search-as-you-type delay


def tour_steps(app: Any, samples: dict[str, str]) -> list[tuple[str, Callable[[], None]]]:
    def ask() -> None:
        app.go("ask")
        screen = app.screen("ask")
        screen.choose_topic("财务")
        screen.add_phrase("请公开明细")
        for key in "dianti":
            screen.key(key)

    def search() -> None:
        app.go("search")
        app.screen("search").query = "cwgk"

    def answers() -> None:
        app.go("answers")
        screen = app.screen("answers")
        screen.number = samples.get("ticket", "Q")[1:].replace("-", "")
        screen.lookup()

    steps: list[tuple[str, Callable[[], None]]] = [
        ("home", lambda: app.go("home")),
        ("browse", lambda: app.go("browse")),
        ("browse-finance", lambda: app.go("browse", category="finance", period="all")),
    ]
    if "finance" in samples:
        steps.append(("detail-finance", lambda: app.go("detail", uid=samples["finance"])))
    if "correction" in samples:
        steps.append(("detail-correction",
                      lambda: app.go("detail", uid=samples["correction"])))
    if "pdf" in samples:
        steps.append(("detail-pdf", lambda: app.go("detail", uid=samples["pdf"])))
        steps.append(("detail-pdf-pages", lambda: app.screen("detail").scroll_to_attachments()))
    steps += [
        ("search", search),
        ("services", lambda: app.go("services")),
        ("ask", ask),
        ("answers", answers),
        ("rate", lambda: app.go("rate")),
        ("admin", lambda: app.go("admin")),
        ("screensaver", lambda: app.go("screensaver")),
        ("home-contrast", lambda: (app.set_high_contrast(True), app.go("home"))),
        ("home-en", lambda: (app.set_high_contrast(False), app.toggle_locale(),
                             app.go("home"))),
    ]
    return steps


class Tour:
    """Runs steps one after another on the Kivy clock, saving a PNG after each.

    Kivy's Clock holds bound methods weakly: the caller must keep the Tour referenced until
    `on_finish` runs, or it silently stops.
    """

    def __init__(self, app: Any, out_dir: Path, steps: list[tuple[str, Callable[[], None]]],
                 on_finish: Callable[[list[Path]], None]) -> None:
        self.app, self.out_dir, self.steps, self.on_finish = app, out_dir, steps, on_finish
        self.saved: list[Path] = []
        self._index = -1
        self._frames = 0

    def start(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        Clock.schedule_once(self._next, 0.2)

    def _next(self, _dt: float) -> None:
        self._index += 1
        if self._index >= len(self.steps):
            self.on_finish(self.saved)
            return
        name, action = self.steps[self._index]
        try:
            action()
        except Exception:  # still take the picture: it shows what went wrong
            log.exception("screenshots: step %s failed", name)
        self._frames = 0
        self._started = time.monotonic()
        Clock.schedule_interval(self._wait, 0)

    def _wait(self, _dt: float) -> bool:
        if self.app.worker.pending or self.app.screen(self.app.sm.current).loading:
            self._frames = 0
            return True
        self._frames += 1
        if self._frames < SETTLE_FRAMES or time.monotonic() - self._started < SETTLE_S:
            return True
        name = self.steps[self._index][0]
        self.saved.append(save_screenshot(self.out_dir / f"{self._index + 1:02d}-{name}.png"))
        Clock.schedule_once(self._next, 0)
        return False


def save_screenshot(path: Path) -> Path:
    """Window.screenshot adds a counter to the name it is given; move it to `path`."""
    written = Window.screenshot(name=str(path))
    os.replace(written, path)
    return path
