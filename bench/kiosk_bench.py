"""Kiosk responsiveness: start-up, tap and keypress latency, memory over many taps.

    .venv/bin/python -m bench.kiosk_bench                                  # the issue's figures
    .venv/bin/python -m bench.kiosk_bench --count 300 --taps 200 --starts 1   # quick

Loads a cache of N disclosures (the demo community, topped up with bench/search_bench.py's
synthetic corpus through the real import path), then, each in a fresh process because
Kivy's window is process-global, headless (SDL offscreen) at 1920x1080:

* start → first interactive frame: from spawning the process to the first frame drawn
  with home's tiles loaded, against an empty Kivy app (same window settings) started in
  the same run, alternately, median of ``--starts`` each; target ratio ≤ 1.5×;
* tap → next screen drawn and keypress → search results drawn: real touches (down + up
  through the window) cycling through every screen; the time from the touch to the end
  of the frame that draws the screen with its data loaded and the worker idle; p95
  target ≤ 100 ms;
* resident-set size after start, once every screen is built, after 1,000 taps, half-way
  and after ``--taps`` taps; growth target ≤ 5% from 1,000 taps (warm caches) to the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULT = "KIOSK-BENCH-RESULT "
TARGET_START_RATIO = 1.5
TARGET_P95_MS = 100.0
TARGET_RSS_GROWTH = 0.05
STEADY_FROM_TAPS = 1000  # caches (labels, pools, SQLite pages, malloc arenas) are full by then


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- the parent: load a cache, run the children, print figures ----------------------------


def load_cache(workdir: Path, count: int, batch: int = 2000) -> int:
    """The demo community plus synthetic disclosures up to `count`; returns how many."""
    from sqlalchemy import func, select

    from bench.search_bench import corpus
    from content.config import load_config
    from content.db import open_cache, unit_of_work
    from content.demo.generate import build_demo
    from content.importer import RawContent, import_content
    from content.models import Disclosure

    config = load_config(environ={"JUWU_PATHS__DATA_DIR": str(workdir)})
    cache = open_cache(config.database_path)
    try:
        demo = build_demo(dt.date.today())
        with unit_of_work(cache) as session:
            import_content(session, RawContent.from_mapping(demo, origin="demo"), config,
                           actor="bench")
        items = corpus(max(0, count - len(demo["disclosure"])))
        while chunk := list(itertools.islice(items, batch)):
            with unit_of_work(cache) as session:
                import_content(session, RawContent.from_mapping({"disclosure": chunk}),
                               config, actor="bench")
        with cache.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(Disclosure)) or 0)
    finally:
        cache.close()


def empty_cache(data_dir: Path) -> None:
    from content.config import load_config
    from content.db import open_cache

    config = load_config(environ={"JUWU_PATHS__DATA_DIR": str(data_dir)})
    open_cache(config.database_path).close()


def parse_size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def run_child(mode: str, workdir: Path, size: str, taps: int = 0,
              timeout_s: float = 3600) -> dict[str, Any]:
    env = dict(os.environ, SDL_VIDEODRIVER="offscreen", KIVY_NO_ARGS="1",
               KIVY_HOME=str(workdir / f"kivy-{mode}"), PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "bench.kiosk_bench", "--child", mode, "--dir", str(workdir),
           "--taps", str(taps), "--size", size]
    spawned = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s,
                          cwd=Path(__file__).resolve().parent.parent, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT):
            result: dict[str, Any] = json.loads(line[len(RESULT):])
            if "ready" in result:
                result["start_ms"] = (result["ready"] - spawned) * 1000
            return result
    raise RuntimeError(f"kiosk bench child {mode!r} failed (exit {proc.returncode}):\n"
                       f"{proc.stderr[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="disclosures in the cache")
    parser.add_argument("--taps", type=int, default=10_000, help="simulated taps")
    parser.add_argument("--starts", type=int, default=3, help="start-ups of each app")
    parser.add_argument("--dir", type=Path, help="keep the cache here (default: temporary)")
    parser.add_argument("--reuse", action="store_true", help="the cache in --dir is loaded")
    parser.add_argument("--size", default="1920x1080", help="window size, WxH")
    parser.add_argument("--child", choices=("empty", "kiosk"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        assert args.dir is not None
        return child(args.child, args.dir, args.taps, parse_size(args.size))

    from bench.search_bench import machine

    workdir = args.dir or Path(tempfile.mkdtemp(prefix="juwu-kiosk-bench-"))
    print(f"machine: {machine()}")
    if not args.reuse:
        t0 = time.perf_counter()
        n = load_cache(workdir, args.count)
        print(f"cache: {n} disclosures loaded in {time.perf_counter() - t0:.0f} s "
              f"({workdir})")

    # A second baseline: the same kiosk on a cache with nothing in it, which separates what
    # the cache's size costs from what the kiosk's code costs at every start.
    bare = workdir / "empty-cache"
    if not (bare / "cache.sqlite3").exists():
        empty_cache(bare)
    empty: list[float] = []
    kiosk: list[float] = []
    kiosk_bare: list[float] = []
    gl_renderer: list[str] = []
    for _ in range(args.starts):  # alternate, so that all see the same machine state
        first = run_child("empty", workdir, args.size)
        gl_renderer.append(first.get("gl", "?"))
        empty.append(first["start_ms"])
        kiosk.append(run_child("kiosk", workdir, args.size)["start_ms"])
        kiosk_bare.append(run_child("kiosk", bare, args.size)["start_ms"])
    e, k, kb = (statistics.median(empty), statistics.median(kiosk),
                statistics.median(kiosk_bare))
    print(f"display: headless SDL offscreen, window {args.size}, GL renderer {gl_renderer[0]!r}")
    ratio = k / e
    last = run_child("kiosk", workdir, args.size)  # where a kiosk start-up spends its time
    steps = [("spawn", last["ready"] - last["start_ms"] / 1000), *last["phases"].items(),
             ("home loaded and drawn", last["ready"])]
    print(f"\none full redraw, until GL has finished it (median of 20, 60 fps cap "
          f"included): empty app {first['frame_ms']:.0f} ms, kiosk home "
          f"{last['frame_ms']:.0f} ms, of which rasterising {last['raster_ms']:.0f} ms")
    print(f"\nstart → first interactive frame (median of {args.starts}; ms):")
    print("  one more kiosk start, by phase: " + ", ".join(
        f"{name} +{(t - prev) * 1000:.0f}" for (_, prev), (name, t) in itertools.pairwise(steps)))
    print(f"  empty Kivy app {e:8.0f}   runs {', '.join(f'{v:.0f}' for v in empty)}")
    print(f"  kiosk          {k:8.0f}   runs {', '.join(f'{v:.0f}' for v in kiosk)}")
    print(f"  kiosk, empty cache {kb:4.0f}   runs {', '.join(f'{v:.0f}' for v in kiosk_bare)}")
    print(f"  ratio {ratio:.2f}x: target <= {TARGET_START_RATIO}x "
          f"{'met' if ratio <= TARGET_START_RATIO else 'NOT met'}; "
          f"{args.count} items vs an empty cache {k / kb:.2f}x")

    if not args.taps:
        return 0
    r = run_child("kiosk", workdir, args.size, taps=args.taps)
    print(f"\n{r['taps']} taps across every screen in {r['seconds']:.0f} s:")
    worst = 0.0
    for kind, label in (("nav", "tap → next screen drawn"),
                        ("in_screen", "tap → same screen redrawn (filters, keys)"),
                        ("key", "keypress → search results drawn")):
        values = r["latency_ms"][kind]
        if not values:
            continue
        p95 = pct(values, 95)
        if kind != "in_screen":
            worst = max(worst, p95)
        print(f"  {label:<44} n={len(values):<6} p50 {statistics.median(values):6.1f}  "
              f"p95 {p95:6.1f}  max {max(values):6.1f} ms")
    slowest = sorted(r["by_target"].items(), key=lambda kv: -pct(kv[1], 95))[:6]
    print("  slowest kinds of tap (p95, ms): " + ", ".join(
        f"{name} {pct(values, 95):.0f}" for name, values in slowest))
    verdict = "met" if worst <= TARGET_P95_MS else "NOT met"
    print(f"  p95 target <= {TARGET_P95_MS:.0f} ms {verdict}")
    (start_mb, start_objects), memory = r["memory_start"], r["memory"]
    print(f"\nRSS (after garbage collection and the kiosk's own heap trim), MB / Python "
          f"objects:\n  start (home only) {start_mb:.1f} / {start_objects}")
    for n, mb, objects in memory:
        print(f"  after {n:>6} taps    {mb:.1f} / {objects}")
    end_mb = memory[-1][1]
    print(f"  growth from start {(end_mb / start_mb - 1) * 100:+.1f}% (building every screen "
          f"the first time is most of it)")
    steady = [m for m in memory if m[0] >= STEADY_FROM_TAPS]
    if len(steady) > 1:
        growth = end_mb / steady[0][1] - 1
        print(f"  growth from {steady[0][0]} taps to {memory[-1][0]}: {growth * 100:+.1f}% "
              f"(target <= {TARGET_RSS_GROWTH * 100:.0f}%: "
              f"{'met' if growth <= TARGET_RSS_GROWTH else 'NOT met'})")
    return 0


# -- the children: one app each, driven frame by frame ------------------------------------


def child(mode: str, workdir: Path, taps: int, size: tuple[int, int]) -> int:
    phases: dict[str, float] = {"python started": time.monotonic()}
    from kiosk import boot

    boot.prepare(kivy_home=Path(os.environ["KIVY_HOME"]), windowed=True, size=size,
                 headless=True)
    if mode == "empty":
        from kivy.app import App
        from kivy.uix.widget import Widget

        class Empty(App):  # type: ignore[misc]
            def build(self) -> Widget:
                return Widget()

        app: Any = Empty()
        ready: Callable[[], bool] = lambda: True  # noqa: E731
    else:
        from content.config import load_config
        from content.db import open_cache
        from kiosk.settings import load_settings

        phases["content imported"] = time.monotonic()
        config = load_config(environ={"JUWU_PATHS__DATA_DIR": str(workdir)})
        settings = load_settings(config.data_dir)
        cache = open_cache(config.database_path)
        phases["cache opened"] = time.monotonic()
        boot.register_font(boot.find_font(settings.font))
        from kiosk.app import KioskApp
        from kiosk.data import KioskData

        phases["kiosk imported"] = time.monotonic()
        app = KioskApp(KioskData(cache, config), settings, allow_close=True)
        ready = lambda: bool(app.screen("home").tiles) and not app.worker.pending  # noqa: E731
    from kivy.base import EventLoop, runTouchApp

    app._run_prepare()
    runTouchApp(embedded=True)
    phases["window open, app built"] = time.monotonic()
    EventLoop.idle()
    phases["first frame"] = time.monotonic()
    while not ready():
        EventLoop.idle()  # one frame: clock, input, layout, draw
    out: dict[str, Any] = {"ready": time.monotonic(), "phases": phases, "rss_start_mb": rss_mb(),
                           "objects_start": len(gc.get_objects())}
    from kivy.core.window import Window
    from kivy.graphics.opengl import GL_RENDERER, glFinish, glGetString

    frames, raster = [], []
    for _ in range(20):  # what one full redraw of the first screen costs here
        Window.canvas.ask_update()
        t0 = time.perf_counter()
        EventLoop.idle()
        t1 = time.perf_counter()
        glFinish()
        frames.append((time.perf_counter() - t0) * 1000)
        raster.append((time.perf_counter() - t1) * 1000)
    out["frame_ms"] = statistics.median(frames)
    out["raster_ms"] = statistics.median(raster)

    out["gl"] = glGetString(GL_RENDERER).decode(errors="replace")
    if taps:
        out["memory_start"] = settled_memory()
        out |= Driver(app).run(taps)
    print(RESULT + json.dumps(out), flush=True)
    app.stop()
    EventLoop.close()
    return 0


class Driver:
    """Taps through every screen of a running kiosk, timing each tap until drawn."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.latency: dict[str, list[float]] = {"nav": [], "in_screen": [], "key": []}
        self.by_target: dict[str, list[float]] = {}
        self.count = 0

    def frame(self) -> None:
        from kivy.base import EventLoop

        EventLoop.idle()

    def settled(self, screen: str) -> bool:
        a = self.app
        s = a.sm.current_screen
        return (a.sm.current == screen and not a.worker.pending and not s.loading
                and not getattr(s, "_stale", False))

    def tap(self, widget: Any, screen: str, kind: str) -> None:
        from kivy.graphics.opengl import glFinish
        from kivy.tests.common import UnitTestTouch

        x, y = widget.to_window(*widget.center)
        t0 = time.perf_counter()
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        deadline = time.monotonic() + 10
        while True:
            self.frame()
            if self.settled(screen):
                glFinish()  # "drawn": the GL pipeline (software here) has finished the frame
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"tap on {type(widget).__name__} {getattr(widget, 'text', '')!r}"
                                   f" did not reach {screen} (on {self.app.sm.current})")
        ms = (time.perf_counter() - t0) * 1000
        self.latency[kind].append(ms)
        self.by_target.setdefault(f"{kind} → {screen}", []).append(ms)
        self.count += 1

    def widgets(self, root: Any, cls: str, **attrs: Any) -> list[Any]:
        return [w for w in root.walk(restrict=True) if type(w).__name__ == cls
                and all(getattr(w, k, None) == v for k, v in attrs.items())]

    def visible_row(self, view: Any) -> Any:
        left, bottom = view.to_window(view.x, view.y)
        for row in sorted(self.widgets(view, "RowItem"), key=lambda r: -r.to_window(*r.pos)[1]):
            cx, cy = row.to_window(*row.center)
            if left < cx < left + view.width and bottom < cy < bottom + view.height:
                return row
        raise RuntimeError("no row visible")

    def key(self, screen: Any, key: str, kind: str) -> None:
        self.tap(self.widgets(screen, "KeyButton", key=key)[0], screen.name, kind)

    def run(self, taps: int) -> dict[str, Any]:
        a = self.app
        bar = a._root.ids
        home, browse, search = a.screen("home"), a.screen("browse"), a.screen("search")
        services, ask, answers = a.screen("services"), a.screen("ask"), a.screen("answers")
        admin = a.screen("admin")

        def cycle(i: int) -> None:
            tiles = self.widgets(home.ids.tiles, "TileButton")
            self.tap(tiles[i % (len(tiles) - 1)], "browse", "nav")
            periods = self.widgets(browse.ids.periods, "KToggle")
            self.tap(periods[i % len(periods)], "browse", "in_screen")
            if browse.rows:
                self.tap(self.visible_row(browse.ids.list), "detail", "nav")
                self.tap(bar.btn_back, "browse", "nav")
            self.tap(bar.btn_home, "home", "nav")
            self.tap(home.ids.go_search, "search", "nav")
            self.key(search, "clear", "in_screen")
            for k in "cwgk"[: 2 + i % 3]:
                self.key(search, k, "key")
            if search.results:
                self.tap(self.visible_row(search.ids.results), "detail", "nav")
            self.tap(bar.btn_home, "home", "nav")
            self.tap(home.ids.go_services, "services", "nav")
            kinds = self.widgets(services.ids.kinds, "KToggle")
            self.tap(kinds[i % len(kinds)], "services", "in_screen")
            self.tap(bar.btn_large, "services", "in_screen")
            self.tap(bar.btn_large, "services", "in_screen")
            self.tap(bar.btn_home, "home", "nav")
            self.tap(home.ids.go_ask, "ask", "nav")
            self.key(ask, "clear", "in_screen")
            for k in "dian":
                self.key(ask, k, "in_screen")
            self.tap(bar.btn_contrast, "ask", "in_screen")
            self.tap(bar.btn_contrast, "ask", "in_screen")
            self.tap(bar.btn_home, "home", "nav")
            self.tap(home.ids.go_answers, "answers", "nav")
            self.key(answers, "clear", "in_screen")
            for k in "2026":
                self.key(answers, k, "in_screen")
            self.tap(answers.ids.find, "answers", "in_screen")
            self.tap(bar.btn_home, "home", "nav")
            self.tap(home.ids.go_rate, "rate", "nav")
            self.tap(bar.btn_home, "home", "nav")
            for _ in range(4):
                self.tap(bar.community, "home", "in_screen")
            self.tap(bar.community, "admin", "nav")
            for k in "12":
                self.tap(self.widgets(admin.ids.pin_panel, "KeyButton", key=k)[0], "admin",
                         "in_screen")
            self.tap(bar.btn_home, "home", "nav")

        t0 = time.perf_counter()
        i = 0
        memory: list[tuple[int, float, int]] = []  # (taps, RSS MB, Python objects)
        marks = [m for m in (STEADY_FROM_TAPS, taps // 2) if m < taps]
        while self.count < taps:
            cycle(i)
            i += 1
            if i == 2 or (marks and self.count >= marks[0]):
                # i == 2: every screen built once, its kv loaded, its textures drawn once
                if i != 2:
                    marks.pop(0)
                memory.append((self.count, *settled_memory()))
        seconds = time.perf_counter() - t0
        memory.append((self.count, *settled_memory()))
        return {"taps": self.count, "seconds": seconds, "latency_ms": self.latency,
                "by_target": self.by_target, "memory": memory}


def settled_memory() -> tuple[float, int]:
    """RSS and live Python objects once garbage is collected (three passes: Kivy frees
    bindings from weak-reference callbacks, which leave garbage for the next pass) and the
    kiosk's own 30-second heap trim has run, so that where the timer happens to stand
    does not move the figure."""
    from kiosk.memory import release_free_heap

    for _ in range(3):
        gc.collect()
    release_free_heap()
    return rss_mb(), len(gc.get_objects())


if __name__ == "__main__":
    sys.exit(main())
