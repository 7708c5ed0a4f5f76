"""The kiosk app: a frame (top bar + screens), navigation, idle reset, themes, errors.

Import only after :func:`kiosk.boot.prepare` (Kivy reads its configuration at import).
Layout lives in ``kiosk/kv/*.kv`` (one file per screen, ``app.kv`` the frame); behaviour
lives here and in :mod:`kiosk.screens`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kivy.app import App
from kivy.base import ExceptionHandler, ExceptionManager
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.layout import Layout
from kivy.uix.recyclelayout import RecycleLayout
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

from content import systemd
from kiosk import kivyfixes, screens
from kiosk.backend import Backend
from kiosk.i18n import Texts, texts
from kiosk.logring import RecentLog
from kiosk.memory import TRIM_INTERVAL_S, release_free_heap
from kiosk.settings import KioskSettings, PinGate
from kiosk.speech import Speaker, find_command
from kiosk.views import HomeView, Vocabulary
from kiosk.worker import Worker, describe

if TYPE_CHECKING:
    from kiosk.data import KioskData

log = logging.getLogger(__name__)
KV_DIR = Path(__file__).resolve().parent / "kv"
T = TypeVar("T")
LARGE_TEXT_SCALE = 1.5
ADMIN_TAPS = 5
ADMIN_TAP_WINDOW_S = 4.0
# How long the UI thread waits for a worker answer before drawing without it: most cache
# queries answer in 2-20 ms, and drawing a "loading" frame first costs a whole frame more
# (bench/kiosk_bench.py). Longer work (sync, PDF pages, writes) passes 0.
FAST_ANSWER_S = 0.025

# Colours: nothing is conveyed by colour alone (statuses are words); high contrast is pure
# black/white/yellow.
THEMES: dict[str, dict[str, list[float]]] = {
    "colour": {
        "c_bg": [0.96, 0.95, 0.92, 1], "c_fg": [0.1, 0.1, 0.1, 1],
        "c_bar": [0.66, 0.09, 0.09, 1], "c_bar_fg": [1, 1, 1, 1],
        "c_button": [0.70, 0.12, 0.12, 1], "c_button_fg": [1, 1, 1, 1],
        "c_tile": [1, 1, 1, 1], "c_tile_fg": [0.55, 0.05, 0.05, 1],
        "c_panel": [1, 1, 1, 1], "c_muted": [0.35, 0.35, 0.35, 1],
        "c_line": [0.8, 0.78, 0.74, 1], "c_warn": [0.75, 0.3, 0.0, 1],
        "c_selected": [0.98, 0.85, 0.45, 1],
    },
    "contrast": {
        "c_bg": [0, 0, 0, 1], "c_fg": [1, 1, 1, 1],
        "c_bar": [0, 0, 0, 1], "c_bar_fg": [1, 1, 0, 1],
        "c_button": [1, 1, 0, 1], "c_button_fg": [0, 0, 0, 1],
        "c_tile": [0, 0, 0, 1], "c_tile_fg": [1, 1, 0, 1],
        "c_panel": [0.08, 0.08, 0.08, 1], "c_muted": [1, 1, 1, 1],
        "c_line": [1, 1, 1, 1], "c_warn": [1, 1, 0, 1],
        "c_selected": [1, 1, 1, 1],
    },
}

SCREENS: dict[str, type[Screen]] = {
    "home": screens.HomeScreen,
    "browse": screens.BrowseScreen,
    "detail": screens.DetailScreen,
    "search": screens.SearchScreen,
    "services": screens.ServicesScreen,
    "ask": screens.AskScreen,
    "answers": screens.AnswersScreen,
    "rate": screens.RateScreen,
    "admin": screens.AdminScreen,
    "screensaver": screens.ScreensaverScreen,
}


# Rules some screens share, loaded with the first of them: kv parsing is a good part of
# the start-up, so app.kv holds only what the frame and home need.
KV_SHARED: dict[str, tuple[str, ...]] = {
    name: ("keypad",) for name in ("search", "ask", "answers", "admin")}


class _ReturnHome(ExceptionHandler):  # type: ignore[misc]
    """Any exception in the UI loop is logged and the resident lands on home, not a crash."""

    def __init__(self, app: KioskApp) -> None:
        super().__init__()
        self.app = app

    def handle_exception(self, exception: BaseException) -> int:
        if isinstance(exception, KeyboardInterrupt | SystemExit):
            return int(ExceptionManager.RAISE)
        log.exception("kiosk: error on screen %s; back to home", self.app.current_screen_name())
        self.app.errors += 1
        Clock.schedule_once(lambda _dt: self.app.reset_to_home(), 0)
        return int(ExceptionManager.PASS)


class Frame(BoxLayout):  # type: ignore[misc]
    """The root: a top bar with community, clock and accessibility buttons, then screens."""

    sm: ScreenManager = ObjectProperty(None)

    def on_touch_down(self, touch: Any) -> bool:
        # The bar (home, back, large text, contrast) is always reachable, even when a
        # screen's content overflows under it.
        bar = self.ids.bar
        if bar.collide_point(*touch.pos):
            return bool(bar.on_touch_down(touch))
        return bool(super().on_touch_down(touch))


class KioskApp(App):  # type: ignore[misc]
    title = "juwu"
    t: Texts = ObjectProperty(texts("zh"))
    locale = StringProperty("zh")
    text_scale = NumericProperty(1.0)
    high_contrast = BooleanProperty(False)
    community_name = StringProperty("")
    clock_text = StringProperty("")
    date_text = StringProperty("")
    touch_px = NumericProperty(60)  # 15 mm on the configured screen
    portrait = BooleanProperty(False)
    message = StringProperty("")
    ready = BooleanProperty(False)  # home drawn with its data (systemd's READY=1)
    rated_this_session = BooleanProperty(False)
    c_bg = ListProperty(THEMES["colour"]["c_bg"])
    c_fg = ListProperty(THEMES["colour"]["c_fg"])
    c_bar = ListProperty(THEMES["colour"]["c_bar"])
    c_bar_fg = ListProperty(THEMES["colour"]["c_bar_fg"])
    c_button = ListProperty(THEMES["colour"]["c_button"])
    c_button_fg = ListProperty(THEMES["colour"]["c_button_fg"])
    c_tile = ListProperty(THEMES["colour"]["c_tile"])
    c_tile_fg = ListProperty(THEMES["colour"]["c_tile_fg"])
    c_panel = ListProperty(THEMES["colour"]["c_panel"])
    c_muted = ListProperty(THEMES["colour"]["c_muted"])
    c_line = ListProperty(THEMES["colour"]["c_line"])
    c_warn = ListProperty(THEMES["colour"]["c_warn"])
    c_selected = ListProperty(THEMES["colour"]["c_selected"])

    def __init__(self, backend: Backend, settings: KioskSettings, *,
                 allow_close: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.backend = backend
        self.settings = settings
        self.allow_close = allow_close
        self.worker = Worker()
        self.recent_log = RecentLog()  # for the admin screen; detached in on_stop
        logging.getLogger().addHandler(self.recent_log)
        self.vocabulary = Vocabulary()
        self.pin_gate = PinGate(settings.admin_pin_hash)
        self.speaker = Speaker(find_command(settings.tts_command))  # 朗读 (kiosk/speech.py)
        self.history: list[str] = []
        self.last_touch = self.last_resident = time.monotonic()  # last_touch: idle reset
        self.errors = 0
        self._admin_taps: list[float] = []
        self._loaded_kv: set[str] = set()
        self._vocabulary_asked = False
        self._saved_home: HomeView | None = None
        self._home_from_saved = False
        self._opening = False
        self.fatal_error = ""  # the cache could not be opened: the kiosk stops with this
        self.restart_requested = False  # the admin's "restart": kiosk.cli starts us again
        self.locale = settings.locale if settings.locale in ("zh", "en") else "zh"
        self.t = texts(self.locale)
        self.community_name = backend.config.community.name

    # -- set-up ------------------------------------------------------------------------

    def build(self) -> Frame:
        kivyfixes.apply()  # before any widget exists
        Builder.load_file(str(KV_DIR / "app.kv"))
        Window.clearcolor = self.c_bg
        self._window_resized(Window, Window.size)  # sizes first: no relayout after
        root = Frame()
        root.sm.transition = NoTransition()  # instant: elderly users, slow boards
        ExceptionManager.add_handler(_ReturnHome(self))
        Window.bind(on_touch_down=self._touched, on_key_down=self._key_down,
                    on_request_close=self._request_close, size=self._window_resized)
        self._tick_clock(0)
        Clock.schedule_interval(self._tick_clock, 1)
        Clock.schedule_interval(self._check_idle, 1)
        Clock.schedule_interval(lambda _dt: release_free_heap(), TRIM_INTERVAL_S)
        self._root = root
        # Home first, the cache after (kiosk.backend): the saved home, when still exact,
        # is drawn in the first frame and the worker opens the cache once it is shown.
        self._saved_home = self.backend.saved_home()
        Window.bind(on_flip=self._flipped)
        if self._saved_home is None:
            self._open_backend()
        self.go("home")
        # Watchdog pings from this (the UI) thread's clock, so a hung UI loop gets
        # restarted too; READY=1 once home is drawn with its data (_flipped).
        interval = systemd.watchdog_interval_s()
        if interval:
            Clock.schedule_interval(lambda _dt: systemd.notify("WATCHDOG=1"), interval)
        return root

    def on_start(self) -> None:
        # One layout pass, top down, before the first frame: otherwise every label first
        # renders its text at Kivy's default width of 100 px (Chinese, unbreakable there,
        # is measured character by character) and again once laid out. Home's first
        # frame: 720 → 290 text measurements, ~7 ms less (bench/kiosk_bench.py).
        for widget in self._root.walk(restrict=True):
            if isinstance(widget, Layout) and not isinstance(widget, RecycleLayout):
                widget.do_layout()  # (a RecycleView lays its rows out itself)

    def on_c_bg(self, _app: Any, colour: list[float]) -> None:
        Window.clearcolor = colour

    def take_saved_home(self) -> HomeView | None:
        """The saved home for the first frame, once; None afterwards or if there was none."""
        saved, self._saved_home = self._saved_home, None
        self._home_from_saved = self._home_from_saved or saved is not None
        return saved

    def _flipped(self, *_args: Any) -> None:
        """After each frame until home has been shown with its data: tell systemd we serve,
        and open the cache (after the first frame, whose drawing its imports would slow:
        the worker holds the GIL while it imports)."""
        if not self.ready and self.screen("home").has_data:
            self.ready = True
            Window.unbind(on_flip=self._flipped)
            systemd.notify("READY=1")
            log.info("kiosk: home shown (%s)", "saved home" if not self.backend.is_open
                     else "from the cache")
        self._open_backend()

    def _open_backend(self) -> None:
        if not self._opening:
            self._opening = True
            self.worker.submit(self.backend.data, self._backend_opened,
                               self._backend_failed, wait_s=0)

    def _backend_opened(self, _data: KioskData) -> None:
        # Home drawn from its saved copy is read again from the cache (a home that waited
        # for the cache has its read queued behind this already).
        if self._home_from_saved and self.sm.current == "home":
            self.screen("home").refresh()

    def _backend_failed(self, error: BaseException) -> None:
        log.error("kiosk: the cache cannot be opened: %s", describe(error))
        self.fatal_error = str(error)
        self.stop()

    def load_kv(self, filename: str | None = None) -> bool:
        return False  # the kv files are loaded explicitly from KV_DIR, never by class name

    def open_settings(self, *_args: Any) -> bool:
        return False  # F1 must not open Kivy's settings panel on a public kiosk

    def on_stop(self) -> None:
        logging.getLogger().removeHandler(self.recent_log)
        self.speaker.stop()
        self.worker.shutdown()
        ExceptionManager.handlers[:] = [h for h in ExceptionManager.handlers
                                        if not isinstance(h, _ReturnHome)]

    def need_vocabulary(self) -> None:
        """Load the candidate characters (Ask's keypad) once, when Ask is first shown.

        Not at start: with 10,000 titles it takes most of a second on the worker, and every
        tap made meanwhile would wait behind it (bench/kiosk_bench.py).
        """
        if not self._vocabulary_asked:
            self._vocabulary_asked = True
            self.ask(lambda d: d.vocabulary(), self._got_vocabulary, wait_s=0)

    def _got_vocabulary(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        ask = self.sm.get_screen("ask") if self.sm.has_screen("ask") else None
        if ask is not None and ask.pinyin:
            ask.on_pinyin(ask, ask.pinyin)

    def _request_close(self, *_args: Any, **_kwargs: Any) -> bool:
        return not self.allow_close  # True blocks closing the window

    def _key_down(self, _window: Any, key: int, *_args: Any) -> bool:
        self.last_touch = self.last_resident = time.monotonic()
        return key == 27 and not self.allow_close  # swallow Escape (Android back too)

    def _window_resized(self, _window: Any, size: tuple[int, int]) -> None:
        w, h = size
        self.portrait = h > w
        px_per_mm = math.hypot(w, h) / (self.settings.screen_diagonal_in * 25.4)
        self.touch_px = max(48.0, 15 * px_per_mm)

    # -- navigation ----------------------------------------------------------------------

    @property
    def sm(self) -> ScreenManager:
        return self._root.sm

    def current_screen_name(self) -> str:
        root = getattr(self, "_root", None)
        return root.sm.current if root is not None else ""

    def screen(self, name: str) -> Any:
        """The screen called `name`, loading its kv and creating it on first use."""
        if not self.sm.has_screen(name):
            for kv in (*KV_SHARED.get(name, ()), name):
                if kv not in self._loaded_kv:
                    Builder.load_file(str(KV_DIR / f"{kv}.kv"))
                    self._loaded_kv.add(kv)
            self.sm.add_widget(SCREENS[name](name=name))
        return self.sm.get_screen(name)

    def go(self, name: str, **params: Any) -> None:
        """Show screen `name`; `params` go to its ``show`` method (e.g. uid=...)."""
        screen = self.screen(name)
        current = self.sm.current if self.sm.screen_names else ""
        if current and current != name:
            self.history.append(current)
            del self.history[:-20]
        if name == "home":
            self.history.clear()
        screen.params = params
        # Current first: show() may get its answer at once (run_io's short wait) and that
        # answer may navigate again (an error goes home), which must not be undone here.
        self.sm.current = name
        screen.show(**params)

    def back(self) -> None:
        target = self.history.pop() if self.history else "home"
        self.screen(target)
        self.sm.current = target

    def open_item(self, uid: str, doc_type: str = "disclosure") -> None:
        if doc_type == "service":
            self.go("services", uid=uid)
        else:
            self.go("detail", uid=uid)

    def reset_to_home(self) -> None:
        """Back to home with every screen's typed input cleared (privacy after idle)."""
        for name in self.sm.screen_names:
            self.sm.get_screen(name).reset()
        self.go("home")

    # -- idle, clock, accessibility ------------------------------------------------------

    def _touched(self, *_args: Any) -> None:
        self.last_touch = self.last_resident = time.monotonic()

    def _check_idle(self, _dt: float) -> None:
        now = time.monotonic()
        idle = now - self.last_touch
        if idle >= self.settings.idle_timeout_s:
            self.last_touch = now
            if self.sm.current not in ("home", "screensaver") or self._has_input():
                log.info("kiosk: idle for %.0f s, back to home", idle)
            self.rated_this_session = False
            self.set_large_text(False)
            self.set_high_contrast(False)
            if self.sm.current != "screensaver":
                self.reset_to_home()
        saver_after = self.settings.screensaver_after_s
        if (saver_after and self.sm.current == "home"
                and now - self.last_resident >= saver_after):
            self.go("screensaver")

    def _has_input(self) -> bool:
        return any(self.sm.get_screen(n).has_input() for n in self.sm.screen_names)

    def _tick_clock(self, _dt: float) -> None:
        now = self.backend.now()
        weekday = "一二三四五六日"[now.weekday()]
        if self.locale == "zh":
            self.date_text = f"{now.year}年{now.month}月{now.day}日 星期{weekday}"
        else:
            self.date_text = now.strftime("%a %d %b %Y")
        self.clock_text = now.strftime("%H:%M")

    def set_large_text(self, on: bool) -> None:
        self.text_scale = LARGE_TEXT_SCALE if on else 1.0

    def toggle_large_text(self) -> None:
        self.set_large_text(self.text_scale == 1.0)

    def set_high_contrast(self, on: bool) -> None:
        self.high_contrast = on
        for key, value in THEMES["contrast" if on else "colour"].items():
            setattr(self, key, value)

    def toggle_contrast(self) -> None:
        self.set_high_contrast(not self.high_contrast)

    def toggle_locale(self) -> None:
        self.locale = "en" if self.locale == "zh" else "zh"
        self.t = texts(self.locale)
        self._tick_clock(0)
        self.sm.current_screen.relabel()

    def admin_tap(self) -> None:
        """Hidden gesture: five taps on the community name within four seconds."""
        now = time.monotonic()
        self._admin_taps = [t for t in self._admin_taps if now - t < ADMIN_TAP_WINDOW_S]
        self._admin_taps.append(now)
        if len(self._admin_taps) >= ADMIN_TAPS:
            self._admin_taps.clear()
            self.go("admin")

    # -- background work -----------------------------------------------------------------

    def run_io(self, fn: Callable[[], T], done: Callable[[T], None],
               failed: Callable[[BaseException], None] | None = None, *,
               wait_s: float = FAST_ANSWER_S) -> None:
        """Run `fn` off the UI thread; `done` on the UI thread; errors go home by default.

        The UI waits up to `wait_s` (about a frame) for the answer, so that a quick query
        is drawn in the same frame as the tap; pass 0 for work that is never that quick.
        """
        def guarded(result: T) -> None:
            try:
                done(result)
            except Exception as e:  # a screen's bug must not kill the kiosk
                self.failed(e)

        if not self.backend.is_open:
            wait_s = 0  # the worker is opening the cache: no quick answer is coming
        self.worker.submit(fn, guarded, failed or self.failed, wait_s=wait_s)

    def ask(self, question: Callable[[KioskData], T], done: Callable[[T], None],
            failed: Callable[[BaseException], None] | None = None, *,
            wait_s: float = FAST_ANSWER_S) -> None:
        """Ask the cache `question` (on the worker, see run_io); opens the cache if need be."""
        self.run_io(lambda: question(self.backend.data()), done, failed, wait_s=wait_s)

    def failed(self, error: BaseException) -> None:
        if self.fatal_error:
            return  # stopping: the cache could not be opened
        log.error("kiosk: background work failed on %s: %s", self.current_screen_name(),
                  describe(error), exc_info=error)
        self.errors += 1
        self.message = self.t["error.generic"]
        Clock.schedule_once(lambda _dt: setattr(self, "message", ""), 6)
        self.reset_to_home()

    def sp_scaled(self, value: float) -> float:
        from kivy.metrics import sp

        return float(sp(value) * self.text_scale)
