"""Kiosk responsiveness: start-up, tap and keypress latency, memory over many taps.

    .venv/bin/python -m bench.kiosk_bench                                  # the issue's figures
    .venv/bin/python -m bench.kiosk_bench --count 300 --taps 200 --starts 1   # quick
    .venv/bin/python -m bench.kiosk_bench --reuse --dir /tmp/kb --taps 0    # start-up only

Loads a cache of N disclosures (the demo community, topped up with bench/search_bench.py's
synthetic corpus through the real import path), then, each in a fresh process because
Kivy's window is process-global, headless (SDL offscreen) at 1920x1080 (or 1080x1920):

* start → first interactive frame: the real command as the systemd unit runs it (its
  configuration file naming the data directory), ``python -m content.cli --config
  DIR/device.toml kiosk --windowed --no-sync``, with compiled bytecode kept as an
  installed kiosk has it, from spawning it to the ``READY=1`` it sends on
  systemd's notify socket (which the bench binds) once home is drawn with its data; then
  SIGTERM, which it must obey (exit 0). Against an empty Kivy app with the same Config
  (``kiosk.boot.prepare`` with the kiosk's arguments) that sends ``READY=1`` right after its
  first frame is drawn and flipped, timed the same way. Cases, alternating with the empty
  app, median of ``--starts`` each: *warm*, the usual start, the kiosk having run before on
  this data dir so its home snapshot ``kiosk-home.json`` is there (an unmeasured start
  writes it first); *cold*, that snapshot deleted before each start (the first start ever,
  or content changed while the kiosk was off), for which there is no target; and warm on
  an empty cache, which separates what the cache's size costs. Target: warm ≤ 1.5× empty,
  as the median of each round's ratio (kiosk / the empty app started just before it);
* tap → next screen drawn and keypress → search results drawn: real touches (down + up
  through the window) cycling through every screen of a kiosk run in-process; the time
  from the touch to the end of the frame that draws the screen with its data loaded and
  the worker idle; p95 target ≤ 100 ms;
* resident-set size after start, once every screen is built, after 1,000 taps, half-way
  and after ``--taps`` taps; growth target ≤ 5% from 1,000 taps (warm caches) to the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import inspect
import itertools
import json
import os
import shutil
import signal
import socket
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


def count_disclosures(data_dir: Path) -> int:
    from sqlalchemy import func, select

    from content.config import load_config
    from content.db import open_cache
    from content.models import Disclosure

    config = load_config(environ={"JUWU_PATHS__DATA_DIR": str(data_dir)})
    cache = open_cache(config.database_path)
    try:
        with cache.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(Disclosure)) or 0)
    finally:
        cache.close()


def parse_size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


# -- start-up: the real command, timed from spawn to its READY=1 --------------------------

ROOT = Path(__file__).resolve().parent.parent
KIOSK_SIZES = {(1920, 1080): [], (1080, 1920): ["--portrait"]}  # what `juwu kiosk` opens
SNAPSHOT = "kiosk-home.json"  # the kiosk's saved home, in its data dir
READY_TIMEOUT_S = 60.0
EXIT_TIMEOUT_S = 10.0


class StartError(RuntimeError):
    """A measured process did not start, did not say READY=1, or did not stop cleanly."""


class NotifySocket:
    """systemd's end of the notify protocol: an AF_UNIX datagram socket the children's
    ``NOTIFY_SOCKET`` points at (in a short temporary directory: AF_UNIX paths are limited
    to 107 bytes)."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="juwu-kb-"))
        self.path = self.directory / "notify"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))

    def drain(self) -> None:
        """Forget what earlier processes sent (e.g. a STOPPING=1 after READY=1)."""
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recv(4096)
        except BlockingIOError:
            pass
        finally:
            self.sock.setblocking(True)

    def wait_ready(self, proc: subprocess.Popen[bytes], timeout_s: float) -> float | None:
        """time.monotonic() when READY=1 arrived; None if `proc` exited or time ran out."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(min(left, 0.1))  # wakes up to notice an early exit
            try:
                message = self.sock.recv(4096)
            except TimeoutError:
                if proc.poll() is not None:
                    return None
                continue
            received = time.monotonic()
            if "READY=1" in message.decode(errors="replace").splitlines():
                return received
        return None

    def close(self) -> None:
        self.sock.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def start_env(notify: NotifySocket, workdir: Path) -> dict[str, str]:
    """The children's environment: no juwu settings, no service manager but ours, and no
    KIVY_HOME (the kiosk sets its own, <data dir>/kivy, as under systemd).

    Compiled bytecode is kept (in the bench's own directory, not the source tree), as an
    installed kiosk has it: `pip install` compiles every module once. Without it each
    start would compile the kiosk's ~40 modules again and the empty app's three.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUWU_", "WATCHDOG_"))
           and k not in ("NOTIFY_SOCKET", "KIVY_HOME", "PYTHONDONTWRITEBYTECODE")}
    return env | {"SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1",
                  "PYTHONPYCACHEPREFIX": str(workdir / "pycache"),
                  "NOTIFY_SOCKET": str(notify.path)}


def kiosk_cmd(data_dir: Path, size: tuple[int, int]) -> list[str]:
    """`juwu kiosk` as the systemd unit runs it: the device's configuration file names
    the data directory (the unit sets JUWU_CONFIG; --config is the same)."""
    device = data_dir / "device.toml"
    device.write_text(f"[paths]\ndata_dir = {json.dumps(str(data_dir))}\n", encoding="utf-8")
    return [sys.executable, "-m", "content.cli", "--config", str(device), "kiosk",
            "--windowed", "--no-sync", *KIOSK_SIZES[size]]


def empty_cmd(workdir: Path, size: tuple[int, int], frames: int = 0) -> list[str]:
    call = (f"empty_app({str(workdir / 'kivy-empty')!r}, {size[0]}, {size[1]}, {frames}, "
            f"{RESULT!r})")
    source = f"from __future__ import annotations\n{inspect.getsource(empty_app)}\n{call}\n"
    return [sys.executable, "-c", source]


def shown(cmd: list[str]) -> str:
    return " ".join(f"'<{a.splitlines()[-1]}>'" if "\n" in a else a for a in cmd)


def tail(path: Path, chars: int = 3000) -> str:
    text = path.read_text(errors="replace")
    return text[-chars:] if text.strip() else "(nothing on stderr)"


def timed_start(cmd: list[str], notify: NotifySocket, workdir: Path, *, name: str,
                terminate: bool,
                before_stop: Callable[[], object] | None = None) -> tuple[float, str]:
    """Spawn `cmd`; milliseconds from spawn to its READY=1, and what it printed on stdout.

    Then SIGTERM it (`terminate`; else it stops by itself) and wait for exit status 0.
    `before_stop` runs between READY=1 and the signal (not timed).

    Raises:
        StartError: no READY=1 within READY_TIMEOUT_S, an exit before it, no exit within
            EXIT_TIMEOUT_S after, or a non-zero exit status; with the end of its stderr.
    """
    env = start_env(notify, workdir)
    with tempfile.TemporaryDirectory(prefix="juwu-kb-out-") as tmp:
        out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            notify.drain()
            spawned = time.monotonic()
            proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err)
            problem = None
            try:
                ready = notify.wait_ready(proc, READY_TIMEOUT_S)
                if ready is None:
                    code = proc.poll()
                    problem = (f"exited with status {code} before READY=1" if code is not None
                               else f"no READY=1 within {READY_TIMEOUT_S:.0f} s")
                else:
                    if before_stop is not None:
                        before_stop()
                    if terminate:
                        proc.send_signal(signal.SIGTERM)
                    try:
                        code = proc.wait(EXIT_TIMEOUT_S)
                    except subprocess.TimeoutExpired:
                        problem = (f"still running {EXIT_TIMEOUT_S:.0f} s after "
                                   f"{'SIGTERM' if terminate else 'READY=1'}; killed")
                    else:
                        if code != 0:
                            problem = f"exited with status {code} after READY=1"
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        if problem is not None:
            raise StartError(f"{name}: {problem}\n$ {shown(cmd)}\n"
                             f"--- end of its stderr ---\n{tail(err_path)}")
        assert ready is not None
        return (ready - spawned) * 1000, out_path.read_text(errors="replace")


def result_line(stdout: str, name: str) -> dict[str, Any]:
    for line in stdout.splitlines():
        if line.startswith(RESULT):
            result: dict[str, Any] = json.loads(line[len(RESULT):])
            return result
    raise StartError(f"{name}: no result line on stdout")


class Starts:
    """The start-up measurements of one bench run."""

    def __init__(self, workdir: Path, bare: Path, size: tuple[int, int]) -> None:
        self.workdir, self.bare, self.size = workdir, bare, size
        self.notify = NotifySocket()
        self.gl = "?"
        self.warned: set[Path] = set()

    def empty(self, frames: int = 0) -> tuple[float, dict[str, Any]]:
        ms, stdout = timed_start(empty_cmd(self.workdir, self.size, frames), self.notify,
                                 self.workdir, name="empty Kivy app", terminate=False)
        result = result_line(stdout, "empty Kivy app")
        self.gl = result.get("gl", self.gl)
        return ms, result

    def kiosk(self, data_dir: Path, *, cold: bool = False) -> float:
        snapshot = data_dir / SNAPSHOT
        if cold:
            snapshot.unlink(missing_ok=True)
        elif not snapshot.exists():
            self.warm_up(data_dir)
        return timed_start(kiosk_cmd(data_dir, self.size), self.notify, self.workdir,
                           name=f"juwu kiosk on {data_dir}{' (cold)' if cold else ''}",
                           terminate=True)[0]

    def warm_up(self, data_dir: Path, wait_s: float = 10.0) -> None:
        """One unmeasured start that leaves the kiosk's home snapshot behind."""
        snapshot = data_dir / SNAPSHOT

        def written() -> None:
            deadline = time.monotonic() + wait_s
            while not snapshot.exists() and time.monotonic() < deadline:
                time.sleep(0.05)

        timed_start(kiosk_cmd(data_dir, self.size), self.notify, self.workdir,
                    name=f"juwu kiosk on {data_dir} (warm-up)", terminate=True,
                    before_stop=written)
        if not snapshot.exists() and data_dir not in self.warned:
            self.warned.add(data_dir)
            print(f"  warning: the kiosk wrote no {snapshot} within {wait_s:.0f} s of "
                  f"READY=1, so its \"warm\" starts there are cold ones", flush=True)

    def close(self) -> None:
        self.notify.close()


def measure_starts(starts: Starts, count: int, rounds: int) -> None:
    size = f"{starts.size[0]}x{starts.size[1]}"
    print(f"\nstart → first interactive frame: the real `juwu kiosk --windowed --no-sync`, "
          f"window {size}, from spawn to its READY=1 (sent once home is drawn with its "
          f"data), against an empty Kivy app's READY=1 after its first frame (ms):",
          flush=True)
    starts.empty()  # unmeasured: the same page cache for all, the snapshots written
    starts.warm_up(starts.workdir)
    starts.warm_up(starts.bare)
    runs: dict[str, list[float]] = {"empty": [], "warm": [], "bare": [], "cold": []}
    for _ in range(rounds):  # alternate, so that all see the same machine state
        runs["empty"].append(starts.empty()[0])
        runs["warm"].append(starts.kiosk(starts.workdir))
        runs["bare"].append(starts.kiosk(starts.bare))
        runs["cold"].append(starts.kiosk(starts.workdir, cold=True))
    e, w, b, c = (statistics.median(runs[k]) for k in ("empty", "warm", "bare", "cold"))
    print(f"display: headless SDL offscreen, window {size}, GL renderer {starts.gl!r}")
    print(f"median of {rounds}:")
    for key, label in (("empty", "empty Kivy app"), ("warm", f"kiosk, warm, {count} items"),
                       ("cold", f"kiosk, cold, {count} items"),
                       ("bare", "kiosk, warm, empty cache")):
        median = statistics.median(runs[key])
        print(f"  {label:<30} {median:6.0f}   runs {', '.join(f'{v:.0f}' for v in runs[key])}")
    # The verdict: each round's kiosk against the empty app started just before it, the
    # median of those ratios. A shared VM's speed drifts by a third within a run, and a
    # ratio of the two medians then compares starts made at different speeds.
    paired = statistics.median(k / m for k, m in zip(runs["warm"], runs["empty"], strict=True))
    print(f"  warm ratio {paired:.2f}x (median of each round's kiosk / empty app): target "
          f"<= {TARGET_START_RATIO}x {'met' if paired <= TARGET_START_RATIO else 'NOT met'}")
    print(f"  also: ratio of the medians {w / e:.2f}x; of the fastest starts "
          f"{min(runs['warm']) / min(runs['empty']):.2f}x")
    print(f"  cold ratio {c / e:.2f}x (no {SNAPSHOT}: first start, or content changed while "
          f"the kiosk was off; no target)")
    print(f"  {count} items vs an empty cache (warm) {w / b:.2f}x")


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
    parser.add_argument("--size", default="1920x1080",
                        help="window size, WxH: 1920x1080 or 1080x1920 (juwu kiosk's own)")
    parser.add_argument("--child", choices=("kiosk",), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    if args.child:
        assert args.dir is not None
        return child(args.child, args.dir, args.taps, size)
    if size not in KIOSK_SIZES:
        parser.error(f"--size {args.size}: the start-up is measured on the real `juwu kiosk`, "
                     "which opens 1920x1080, or 1080x1920 with --portrait; use one of those")

    from bench.search_bench import machine

    workdir = args.dir or Path(tempfile.mkdtemp(prefix="juwu-kiosk-bench-"))
    print(f"machine: {machine()}")
    if args.reuse:
        n = count_disclosures(workdir)
        print(f"cache: {n} disclosures, reused ({workdir})")
    else:
        t0 = time.perf_counter()
        n = load_cache(workdir, args.count)
        print(f"cache: {n} disclosures loaded in {time.perf_counter() - t0:.0f} s "
              f"({workdir})")

    # A second baseline: the same kiosk on a cache with nothing in it, which separates what
    # the cache's size costs from what the kiosk's code costs at every start.
    bare = workdir / "empty-cache"
    if not (bare / "cache.sqlite3").exists():
        empty_cache(bare)
    starts = Starts(workdir, bare, size)
    try:
        measure_starts(starts, n, args.starts)
        empty_frame = starts.empty(frames=20)[1]["frame_ms"] if args.taps else 0.0
    except StartError as e:
        print(f"\nkiosk bench: {e}", file=sys.stderr)
        return 1
    finally:
        starts.close()

    if not args.taps:
        return 0
    r = run_child("kiosk", workdir, args.size, taps=args.taps)
    print(f"\none full redraw, until GL has finished it (median of 20, 60 fps cap "
          f"included): empty app {empty_frame:.0f} ms, kiosk home "
          f"{r['frame_ms']:.0f} ms, of which rasterising {r['raster_ms']:.0f} ms")
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


def empty_app(kivy_home: str, width: int, height: int, frames: int, prefix: str) -> None:
    """The baseline: an empty Kivy app with the kiosk's Config (cmd_kiosk's prepare() for
    --windowed; SDL_VIDEODRIVER=offscreen comes from the environment, as for the kiosk)
    that sends READY=1 right after its first frame is drawn and flipped, then stops.

    Runs as its own source in a bare interpreter (``python -c``, see empty_cmd), so it
    imports only what it needs: started as ``-m bench.kiosk_bench``, this module's imports
    (and its compilation, PYTHONDONTWRITEBYTECODE being set) added ~25 ms to the baseline.
    """
    from pathlib import Path

    from kiosk import boot

    boot.prepare(kivy_home=Path(kivy_home), windowed=True, size=(width, height),
                 headless=False)
    from kivy.app import App
    from kivy.base import EventLoop, runTouchApp
    from kivy.core.window import Window
    from kivy.uix.widget import Widget

    from content.systemd import notify

    class Empty(App):  # type: ignore[misc]
        def build(self) -> Widget:
            return Widget()

        def load_kv(self, filename: str | None = None) -> bool:
            return False  # as KioskApp (and there is no source file to look beside)

    flipped: list[bool] = []

    def on_flip(*_args: object) -> None:
        flipped.append(True)  # the window's own on_flip, the buffer swap, runs after this

    Window.bind(on_flip=on_flip)
    app = Empty()
    app._run_prepare()  # App.run(), with its main loop unrolled to see the first flip
    runTouchApp(embedded=True)
    while not flipped:
        EventLoop.idle()  # one frame: clock, input, layout, draw, flip
    notify("READY=1")
    Window.unbind(on_flip=on_flip)
    import json
    import statistics
    import time

    from kivy.graphics.opengl import GL_RENDERER, glFinish, glGetString

    out: dict[str, object] = {"gl": glGetString(GL_RENDERER).decode(errors="replace")}
    if frames:  # what one full redraw costs here (not timed by the parent)
        times = []
        for _ in range(frames):
            Window.canvas.ask_update()
            t0 = time.perf_counter()
            EventLoop.idle()
            glFinish()
            times.append((time.perf_counter() - t0) * 1000)
        out["frame_ms"] = statistics.median(times)
    print(prefix + json.dumps(out), flush=True)
    app.stop()
    EventLoop.close()


def child(mode: str, workdir: Path, taps: int, size: tuple[int, int]) -> int:
    """The kiosk in-process, driven frame by frame: its redraw cost, taps and memory."""
    phases: dict[str, float] = {"python started": time.monotonic()}
    from kiosk import boot

    boot.prepare(kivy_home=Path(os.environ["KIVY_HOME"]), windowed=True, size=size,
                 headless=True)
    from content.config import load_config
    from kiosk.settings import load_settings

    phases["content imported"] = time.monotonic()
    config = load_config(environ={"JUWU_PATHS__DATA_DIR": str(workdir)})
    settings = load_settings(config.data_dir)
    boot.register_font(boot.find_font(settings.font))
    from kiosk.app import KioskApp
    from kiosk.backend import Backend

    phases["kiosk imported"] = time.monotonic()
    backend = Backend(config)
    app: Any = KioskApp(backend, settings, allow_close=True)
    ready: Callable[[], bool] = lambda: (  # noqa: E731
        app.ready and backend.is_open and not app.worker.pending)
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
    backend.close()
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
