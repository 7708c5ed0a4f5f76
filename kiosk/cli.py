"""``juwu kiosk``: run the touchscreen app, take screenshots of it, or set the admin PIN.

Plugged into ``juwu`` through the ``juwu.commands`` entry point (see content.cli). Kivy is
imported only inside the handler, after :func:`kiosk.boot.prepare`, so ``juwu --help``
stays fast and never opens a window.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from content import systemd
from content.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from content.config import Config

from .settings import SettingsError, load_settings, save_settings

if TYPE_CHECKING:
    from content.db import Cache

log = logging.getLogger(__name__)
GC_OFF_AT_MOST_S = 30.0
LANDSCAPE = (1920, 1080)
PORTRAIT = (1080, 1920)


def register(subparsers: Any) -> None:
    help_text = "the touchscreen kiosk app (docs/kiosk.md)"
    p: argparse.ArgumentParser = subparsers.add_parser("kiosk", help=help_text,
                                                       description=help_text)
    p.add_argument("--windowed", action="store_true",
                   help="run in a window with a cursor (default: fullscreen kiosk mode)")
    p.add_argument("--screenshots", metavar="DIR", type=Path,
                   help="visit every screen, save a PNG of each in DIR, then exit")
    p.add_argument("--portrait", action="store_true", help="1080x1920 instead of 1920x1080")
    p.add_argument("--large-text", action="store_true", help="start in large-text mode")
    p.add_argument("--no-sync", action="store_true",
                   help="do not run the periodic sync and outbox relay (sync.hub_url set)")
    p.add_argument("--set-pin", action="store_true",
                   help="ask for a new admin PIN (4-12 digits) and store its hash")
    p.set_defaults(handler=cmd_kiosk)


def cmd_kiosk(args: argparse.Namespace, config: Config) -> int:
    data_dir = config.data_dir
    try:
        settings = load_settings(data_dir)
    except SettingsError as e:
        print(f"juwu kiosk: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.set_pin:
        return _set_pin(data_dir, settings)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Start-up creates some 50,000 objects that live as long as the process (Kivy, the
    # kiosk's modules and widgets): no garbage collection until home is shown, then they
    # are frozen out of every later collection (bench/kiosk_bench.py: a full collection
    # in the middle of start-up cost 5-20 ms).
    gc.disable()
    stop = SystemStop()
    with stop.installed():  # before Kivy starts SDL (see SystemStop)
        from . import boot

        try:
            font = boot.find_font(settings.font)
        except boot.FontMissingError as e:
            print(f"juwu kiosk: {e}", file=sys.stderr)
            return EXIT_ERROR
        shots: Path | None = args.screenshots
        size = PORTRAIT if args.portrait else LANDSCAPE
        boot.prepare(kivy_home=data_dir / "kivy", windowed=args.windowed or shots is not None,
                     size=size, headless=shots is not None)
        boot.register_font(font)
        # Opening the window makes Kivy run a full garbage collection (its graphics
        # context's flush); what exists by then (modules, Kivy's own kv rules) lives as
        # long as the process, so it is frozen out of that collection and later ones.
        import kivy.lang  # noqa: F401  (parses Kivy's own rules)

        gc.freeze()
        from .app import KioskApp  # imports kivy.core.window: the window opens here
        from .backend import Backend

        periodic: list[Any] = []

        def start_sync(cache: Cache) -> None:
            # Sync and the outbox relay run beside the UI (docs/sync.md, "Periodic sync");
            # the kiosk keeps showing the last verified content whatever they meet.
            # Started once the worker has opened the cache, after home's first frame.
            from content.sync.periodic import PeriodicSync

            periodic.append(PeriodicSync(config, cache))
            periodic[0].start()

        wants_sync = bool(config.sync.hub_url) and shots is None and not args.no_sync
        backend = Backend(config, on_open=start_sync if wants_sync else None)
        app = KioskApp(backend, settings, allow_close=args.windowed or shots is not None)
        app.fbind("ready", _collect_garbage_again)
        from kivy.clock import Clock

        # And in any case soon: a home that never gets its data must not leave it off.
        Clock.schedule_once(_collect_garbage_again, GC_OFF_AT_MOST_S)
        stop.attach(app)
        if args.large_text:
            app.set_large_text(True)
        saved: list[Path] = []
        alive: list[Any] = []  # the Clock holds callbacks weakly: keep the tour alive
        if shots is not None:
            alive = _schedule_tour(app, shots, saved)
        try:
            app.run()
        finally:
            for sync in periodic:
                sync.stop()
                sync.join()
            backend.close()
    del alive
    if app.fatal_error:  # the cache could not be opened
        print(f"juwu kiosk: {app.fatal_error}", file=sys.stderr)
        return EXIT_ERROR
    if app.restart_requested and shots is None and stop.received is None:
        # The admin's "restart": the same command again, in a fresh process (new code,
        # settings and cache connection). Under systemd, Restart=always would also do.
        log.info("kiosk: restarting at the admin's request")
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, *sys.argv])
    if shots is not None:
        for path in saved:
            print(path)
        return EXIT_OK if saved else EXIT_ERROR
    return EXIT_OK


def _collect_garbage_again(*_args: Any) -> None:
    gc.freeze()
    gc.enable()


class SystemStop:
    """SIGTERM (`systemctl stop`) and SIGINT (Ctrl-C) stop the kiosk cleanly, exit status 0.

    Residents cannot close the kiosk (window-close requests and Escape are refused), but the
    system must be able to. Python runs the handler on the main thread between bytecodes,
    within milliseconds (the signal cuts Kivy's sleep between frames short: libc usleep
    returns on EINTR); it only schedules the app's own stop on Kivy's clock, so the stop
    happens between frames. The app then shuts its worker down (on_stop), and cmd_kiosk the
    periodic sync and outbox relay. Installed before Kivy starts SDL, whose own SIGTERM
    handler would turn the signal into a window-close request, which kiosk mode refuses.
    The first signal restores the previous handlers, so a second one acts at once.
    """

    def __init__(self) -> None:
        self.received: int | None = None  # the signal that stopped the kiosk, if one did
        self._app: Any = None
        self._previous: dict[int, Any] = {}

    @contextlib.contextmanager
    def installed(self) -> Iterator[SystemStop]:
        self._previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
        for s in self._previous:
            signal.signal(s, self._handle)
        try:
            yield self
        finally:
            self._restore()

    def attach(self, app: Any) -> None:
        """Stop `app` on a signal (at once, if one came while it was being made)."""
        self._app = app
        if self.received is not None:
            self._schedule()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received = signum
        self._restore()
        log.info("kiosk: %s received, stopping", signal.Signals(signum).name)
        systemd.notify("STOPPING=1")
        if self._app is not None:
            self._schedule()

    def _schedule(self) -> None:
        from kivy.clock import Clock

        Clock.schedule_once(self._app.stop, 0)

    def _restore(self) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous = {}


def _schedule_tour(app: Any, out_dir: Path, saved: list[Path]) -> list[Any]:
    from kivy.clock import Clock

    from .tour import Tour, tour_steps

    def finish(paths: list[Path]) -> None:
        saved.extend(paths)
        app.stop()

    tours: list[Tour] = []

    def begin(samples: dict[str, str]) -> None:
        tours.append(Tour(app, out_dir, tour_steps(app, samples), finish))
        tours[0].start()

    Clock.schedule_once(lambda _dt: app.ask(lambda d: d.samples(), begin, wait_s=0), 0.5)
    return tours


def _set_pin(data_dir: Path, settings: Any) -> int:
    import getpass

    first = getpass.getpass("new admin PIN (4-12 digits): ")
    if getpass.getpass("again: ") != first:
        print("juwu kiosk: the two PINs differ; nothing changed", file=sys.stderr)
        return EXIT_USAGE
    try:
        path = save_settings(data_dir, settings.with_pin(first))
    except SettingsError as e:
        print(f"juwu kiosk: {e}", file=sys.stderr)
        return EXIT_USAGE
    print(f"admin PIN stored (hashed) in {path}")
    return EXIT_OK
