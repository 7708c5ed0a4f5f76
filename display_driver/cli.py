"""``juwu board …``: preview, encode, ping, run, status and simulate LED boards.

Plugged into ``juwu`` through the ``juwu.commands`` entry point (see content.cli).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select

from content.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, Handler, print_json
from content.config import BoardConfig, Config, ConfigError
from content.db import open_cache
from content.errors import CacheError
from content.models import BoardStatus, DisplayLogEntry

from .driver import Board, Driver
from .preview_window import LATEST_PNG, SNAPSHOT_SCALE, STATE_FILE, page_png, write_atomically
from .protocols import PROTOCOLS, LocalProtocolError
from .render import FontNotFoundError
from .service import run_service, stop_service
from .simhost import PtyHost, SimulatorHost, TcpHost
from .simulator import Faults, Simulator, make_simulator, save_png
from .transport import SerialPort, TransportError


def _size(value: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not WIDTHxHEIGHT, e.g. 128x32") from None
    if not (0 < w <= 4096 and 0 < h <= 4096):
        raise argparse.ArgumentTypeError(f"{value!r}: sizes are 1..4096 pixels")
    return w, h


def _add(sub: Any, name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text,
                                                     description=help_text)
    parser.set_defaults(handler=handler)
    return parser


def register(subparsers: Any) -> None:
    board = subparsers.add_parser("board", help="LED display boards (docs/boards.md)",
                                  description="LED display boards (docs/boards.md)")
    sub = board.add_subparsers(dest="board_command", metavar="ACTION", required=True)
    protocols = sorted(PROTOCOLS)

    p = _add(sub, "preview", cmd_preview, "save a PNG of exactly what passers-by will see")
    p.add_argument("text")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--board", help="a board from the configuration")
    who.add_argument("--size", type=_size, help="WIDTHxHEIGHT of an unconfigured board")
    p.add_argument("--protocol", choices=protocols, default="onbon-bx5e",
                   help="with --size (default: onbon-bx5e)")
    p.add_argument("--png", type=Path, required=True, help="where to save (page 2 -> NAME-2.png)")
    p.add_argument("--scale", type=int, default=6, help="screen pixels per LED (default 6)")

    p = _add(sub, "frame", cmd_frame, "print the encoded frame(s) as hex, without sending")
    p.add_argument("text")
    p.add_argument("--protocol", choices=protocols, required=True)
    p.add_argument("--size", type=_size, required=True)
    p.add_argument("--address", type=int, default=1)
    p.add_argument("--json", action="store_true")

    p = _add(sub, "ping", cmd_ping, "ask a configured board whether it is alive")
    p.add_argument("--board", required=True)

    p = _add(sub, "run", cmd_run, "drive every configured board from the cache (until stopped)")
    p.add_argument("--once", action="store_true", help="one update of every board, then exit")
    p.add_argument("--no-sync", action="store_true",
                   help="do not sync with the hub in the background (sync.hub_url)")
    p.add_argument("-v", "--verbose", action="store_true", help="log every step")

    p = _add(sub, "status", cmd_status, "what each board last did (as the admin screen shows)")
    p.add_argument("--json", action="store_true")

    p = _add(sub, "simulate", cmd_simulate,
             "a virtual board on a pseudo-terminal or TCP port, saving PNG snapshots")
    p.add_argument("--protocol", choices=protocols, required=True)
    p.add_argument("--size", type=_size, required=True)
    p.add_argument("--address", type=int, default=1)
    p.add_argument("--listen", default="pty", metavar="pty|PORT",
                   help="'pty' (prints its path) or a TCP port on 127.0.0.1 (0 = any)")
    p.add_argument("--link", type=Path, help="with pty: also reachable at this path")
    p.add_argument("--png-dir", type=Path,
                   help="save a PNG each time the display changes (`board watch DIR` shows "
                        "them live)")
    f = p.add_argument_group(
        "faults", "rehearse what the driver must survive; change them while it runs by typing "
        "commands on stdin: " + "; ".join(FAULT_COMMANDS))
    f.add_argument("--silent", action="store_true", help="never answer")
    f.add_argument("--nack", type=int, metavar="ERROR",
                   help="refuse everything with this Onbon error code (3 = busy)")
    f.add_argument("--corrupt-crc", action="store_true", help="answer with a bad CRC/checksum")
    f.add_argument("--drop-every", type=int, default=0, metavar="N",
                   help="a flaky line: lose every Nth reply")
    f.add_argument("--noise", type=_hex, default=b"", metavar="HEX",
                   help="line noise sent before every reply, e.g. 'a5 00 ff'")
    f.add_argument("--bytes-per-s", type=float, metavar="N",
                   help="slow link: bytes per second each way (9600 baud 8N1 = 960)")

    p = _add(sub, "watch", cmd_watch,
             "a window showing live what simulated boards show (their --png-dir folders)")
    p.add_argument("dirs", nargs="+", type=Path, metavar="DIR",
                   help="a `board simulate --png-dir` folder, or a folder of them (one per "
                        "board, named after it, as `juwu demo` keeps in boards/)")
    p.add_argument("--screenshot", type=Path, metavar="FILE",
                   help="draw the window once without a display, save it as a PNG, exit")
    p.add_argument("--poll-s", type=float, default=0.5,
                   help="look for changes this often (default 0.5 s)")
    p.add_argument("--page-s", type=float, default=5.0,
                   help="each page of a longer text shows this long (default 5 s, as "
                        "page_s of a board)")


def _hex(value: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not hex bytes, e.g. 'a5 00 ff'") from None


def _fail(message: str, code: int = EXIT_ERROR) -> int:
    print(f"juwu: {message}", file=sys.stderr)
    return code


def _board_config(config: Config, name: str) -> BoardConfig:
    return config.board(name)


# -- preview / frame -------------------------------------------------------------------
def cmd_preview(args: argparse.Namespace, config: Config) -> int:
    try:
        if args.board:
            cfg = _board_config(config, args.board)
        else:
            w, h = args.size
            cfg = BoardConfig(name="preview", protocol=args.protocol, port="loop://",
                              width=w, height=h, address=0 if args.protocol == "alpha" else 1)
        board = Board(cfg)
        frames, problems = board.prepare(args.text)
    except ConfigError as e:
        return _fail(str(e), EXIT_USAGE)
    except (LocalProtocolError, FontNotFoundError, ValueError) as e:
        return _fail(f"cannot show this text: {e}")
    sim = make_simulator(cfg.protocol, cfg.width, cfg.height, cfg.address)
    for frame in frames:
        sim.feed(frame)
    if sim.errors:  # would be our bug: the simulator decodes what a board would receive
        return _fail("the simulator could not decode the frames: " + "; ".join(sim.errors))
    args.png.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(max(1, len(sim.pages))):
        path = args.png if i == 0 else args.png.with_name(f"{args.png.stem}-{i + 1}.png")
        paths.append(save_png(sim, path, i, scale=args.scale))
    for p in problems:
        print(f"juwu: warning: {p.char!r} at {p.index} shown as {p.replacement!r}: {p.reason}",
              file=sys.stderr)
    n = len(paths)
    print(f"{cfg.name} ({cfg.protocol} {cfg.width}x{cfg.height}): {n} page{'s' * (n > 1)} "
          f"-> {', '.join(str(p) for p in paths)}")
    return EXIT_OK


def cmd_frame(args: argparse.Namespace, config: Config) -> int:
    w, h = args.size
    try:
        cfg = BoardConfig(name="frame", protocol=args.protocol, port="loop://", width=w,
                          height=h, address=args.address)
        frames, problems = Board(cfg).prepare(args.text)
    except (LocalProtocolError, FontNotFoundError, ValueError) as e:
        return _fail(f"cannot encode this text: {e}")
    for p in problems:
        print(f"juwu: warning: {p.char!r} at {p.index} sent as {p.replacement!r}: {p.reason}",
              file=sys.stderr)
    if args.json:
        print_json({"protocol": args.protocol, "frames": [f.hex(" ") for f in frames]})
    else:
        for i, f in enumerate(frames, 1):
            print(f"# frame {i}/{len(frames)}, {len(f)} bytes")
            print(f.hex(" "))
    return EXIT_OK


# -- ping / run / status ---------------------------------------------------------------
def cmd_ping(args: argparse.Namespace, config: Config) -> int:
    try:
        cfg = _board_config(config, args.board)
    except ConfigError as e:
        return _fail(str(e), EXIT_USAGE)
    try:
        board = Board(cfg)
    except (LocalProtocolError, FontNotFoundError, ValueError) as e:
        return _fail(f"{cfg.name}: {e}", EXIT_USAGE)
    port = SerialPort(cfg.port, board.serial)
    started = time.monotonic()
    try:
        ex = port.exchange([board.protocol.encode_ping()], board.protocol.reply_parser(),
                           timeout_s=cfg.timeout_s, reply_from=board.reply_from)
    except TransportError as e:
        return _fail(f"{cfg.name}: {e}")
    finally:
        port.close()
    ms = (time.monotonic() - started) * 1000
    reply = ex.replies[0]
    src = "" if reply.source_address is None else f" from address {reply.source_address}"
    print(f"{cfg.name}: alive ({reply.kind.value} {reply.command}{src}, {ms:.0f} ms)")
    return EXIT_OK


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    if not config.boards:
        return _fail("no boards are configured: add [[boards]] tables to your configuration "
                     "(docs/boards.md)", EXIT_USAGE)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        cache = open_cache(config.database_path)
    except CacheError as e:
        return _fail(str(e))
    periodic = None
    if config.sync.hub_url and not (args.once or args.no_sync):
        from content.sync.periodic import PeriodicSync

        periodic = PeriodicSync(config, cache)
    try:
        driver = Driver(config, cache, periodic=periodic)
    except (ValueError, LocalProtocolError, FontNotFoundError) as e:
        cache.close()
        return _fail(str(e), EXIT_USAGE)
    with _stop_on_signals(lambda: stop_service(driver)):
        run_service(driver, once=args.once)  # READY=1, watchdog pings (docs/operations.md)
    cache.close()
    return EXIT_OK


@contextlib.contextmanager
def _stop_on_signals(stop: Any) -> Iterator[None]:
    """SIGINT/SIGTERM end the run cleanly (log rows closed, ports released)."""
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in previous:
        signal.signal(s, lambda *_: stop())
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    try:
        cache = open_cache(config.database_path)
    except CacheError as e:
        return _fail(str(e))
    with cache.sessions() as s:
        rows = {r.board: r for r in s.scalars(select(BoardStatus))}
        since = {r.board: r.shown_from for r in s.scalars(
            select(DisplayLogEntry).where(DisplayLogEntry.shown_to.is_(None)))}
    cache.close()
    names = [b.name for b in config.boards] + sorted(set(rows) - {b.name for b in config.boards})
    out: list[dict[str, Any]] = []
    for name in names:
        r = rows.get(name)
        out.append({
            "board": name, "configured": name in {b.name for b in config.boards},
            "state": r.state.value if r else "unknown",
            "showing": r.showing_uid if r else None, "showing_since": since.get(name),
            "last_ok_at": r.last_ok_at if r else None,
            "consecutive_failures": r.consecutive_failures if r else 0,
            "last_error": r.last_error if r else None,
            "updated_at": r.updated_at if r else None,
        })
    if args.json:
        print_json(out)
        return EXIT_OK
    if not out:
        print("no boards configured (docs/boards.md)")
    for b in out:
        line = f"{b['board']}: {b['state']}"
        if b["showing"]:
            line += f", showing {b['showing']} since {b['showing_since'] or '?'}"
        if b["last_ok_at"]:
            line += f", last ok {b['last_ok_at']}"
        if b["last_error"]:
            line += f", {b['consecutive_failures']} failures: {b['last_error']}"
        if not b["configured"]:
            line += " (not in the configuration)"
        print(line)
    return EXIT_OK


# -- simulate --------------------------------------------------------------------------
def cmd_simulate(args: argparse.Namespace, config: Config) -> int:
    w, h = args.size
    faults = Faults(drop_replies=args.silent, nack_error=args.nack,
                    corrupt_reply_crc=args.corrupt_crc, drop_every=max(0, args.drop_every),
                    noise=args.noise)
    sim = make_simulator(args.protocol, w, h, args.address, faults=faults)
    if args.png_dir:
        args.png_dir.mkdir(parents=True, exist_ok=True)
    snapshots = _Snapshots(sim, args.png_dir, args.protocol)
    host: SimulatorHost
    try:
        if args.listen == "pty":
            link = args.link or Path(tempfile.gettempdir()) / f"juwu-sim-{os.getpid()}"
            pty_host = PtyHost([sim], link, on_change=snapshots, bytes_per_s=args.bytes_per_s)
            host = pty_host
            where = f"{os.path.realpath(link)} (also {link})"
        else:
            tcp_host = TcpHost([sim], int(args.listen), on_change=snapshots,
                               bytes_per_s=args.bytes_per_s)
            host, where = tcp_host, tcp_host.url
    except (OSError, ValueError) as e:
        return _fail(f"cannot listen on {args.listen!r}: {e}", EXIT_USAGE)
    print(f"simulating {args.protocol} {w}x{h} at address {args.address} on {where}",
          flush=True)
    if describe_faults(sim, host) != "none":
        print(f"faults: {describe_faults(sim, host)}", flush=True)
    stop = threading.Event()
    console = threading.Thread(target=_console, args=(sim, host), daemon=True,
                               name="simulate-console")
    console.start()
    with _stop_on_signals(stop.set):
        while not stop.wait(0.2):
            pass
    host.close()
    print(f"stopped after {host.received} bytes; {snapshots.count} snapshots", flush=True)
    return EXIT_OK


# -- watch ---------------------------------------------------------------------------
def cmd_watch(args: argparse.Namespace, config: Config) -> int:
    """Live previews of simulated boards: the window polls their --png-dir folders."""
    from content.demo_pipeline import has_display

    from . import preview_window

    try:
        feeds = preview_window.discover(args.dirs)
    except FileNotFoundError as e:
        return _fail(str(e), EXIT_USAGE)
    if not feeds:
        return _fail(f"no simulated boards in {', '.join(str(d) for d in args.dirs)}: give "
                     "the --png-dir of `juwu board simulate`, or the folder holding several",
                     EXIT_USAGE)
    if args.screenshot is None and not has_display():
        return _fail("no display (DISPLAY/WAYLAND_DISPLAY unset): the window cannot open; "
                     "--screenshot FILE draws it without one", EXIT_USAGE)
    if args.poll_s <= 0 or args.page_s < 0:
        return _fail("--poll-s must be > 0 and --page-s >= 0", EXIT_USAGE)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    saved = preview_window.run(feeds, kivy_home=config.data_dir / "kivy-board-watch",
                               screenshot=args.screenshot, poll_s=args.poll_s,
                               page_s=args.page_s)
    if args.screenshot is not None:
        if saved is None:
            return _fail("the window closed before it was drawn")
        print(f"{len(feeds)} board{'s' * (len(feeds) > 1)} -> {saved}")
    return EXIT_OK


FAULT_COMMANDS = (
    "ok (no faults)", "silent", "nack ERROR", "corrupt", "drop-every N", "noise HEX",
    "slow BYTES_PER_S (0 = full speed)", "unplug", "plug",
)


def describe_faults(sim: Simulator, host: SimulatorHost) -> str:
    """The simulator's faults and the line's state, in one line."""
    parts = [] if sim.faults.describe() == "none" else [sim.faults.describe()]
    if host.bytes_per_s:
        parts.append(f"slow link {host.bytes_per_s:g} bytes/s")
    if not host.plugged:
        parts.append("unplugged")
    return ", ".join(parts) or "none"


def apply_fault_command(line: str, sim: Simulator, host: SimulatorHost) -> str:
    """Change the faults of a running simulator; returns the answer to print.

    Raises:
        ValueError: not a command (the message lists them).
    """
    word, _, arg = line.strip().partition(" ")
    arg = arg.strip()
    f = sim.faults
    try:
        if word == "ok":
            sim.faults, host.bytes_per_s = Faults(), None
        elif word == "silent":
            f.drop_replies = True
        elif word == "nack":
            f.nack_error = int(arg)
        elif word == "corrupt":
            f.corrupt_reply_crc = True
        elif word == "drop-every":
            f.drop_every = max(0, int(arg))
        elif word == "noise":
            f.noise = bytes.fromhex(arg)
        elif word == "slow":
            host.bytes_per_s = float(arg) or None
        elif word == "unplug":
            host.unplug()
        elif word == "plug":
            host.plug()
        else:
            raise ValueError(f"unknown command {line.strip()!r}")
    except ValueError as e:
        raise ValueError(f"{e} (commands: {'; '.join(FAULT_COMMANDS)})") from None
    return f"faults: {describe_faults(sim, host)}"


def _console(sim: Simulator, host: SimulatorHost) -> None:
    """Fault commands typed on stdin while the simulator runs (EOF: no more commands)."""
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            print(apply_fault_command(line, sim, host), flush=True)
        except ValueError as e:
            print(f"juwu: {e}", file=sys.stderr, flush=True)


class _Snapshots:
    """Saves a PNG whenever what the simulated board shows changes, for people and for
    ``juwu board watch`` (the folder's format: display_driver/preview_window.py)."""

    def __init__(self, sim: Simulator, directory: Path | None, protocol: str) -> None:
        self.sim = sim
        self.directory = directory
        self.protocol = protocol
        self.count = 0
        self._last: object = (sim.pages, sim.brightness)  # report changes, not pings
        self._write_state()  # a watcher shows the unlit board before the first change

    def _write_state(self) -> None:
        """``board.json``, written last: what the board is and which PNGs are current."""
        if self.directory is None:
            return
        g = self.sim.geometry
        state = {"protocol": self.protocol, "width": g.width, "height": g.height,
                 "address": self.sim.address, "scale": SNAPSHOT_SCALE,
                 "snapshot": self.count, "pages": max(1, len(self.sim.pages)) if self.count else 0,
                 "brightness": self.sim.brightness}
        write_atomically(self.directory / STATE_FILE,
                         lambda tmp: tmp.write_text(json.dumps(state) + "\n", encoding="utf-8"))

    def _save(self, name: str, page: int) -> None:
        assert self.directory is not None
        write_atomically(self.directory / name, lambda tmp: save_png(
            self.sim, tmp, page, scale=SNAPSHOT_SCALE))

    def __call__(self) -> None:
        state = (self.sim.pages, self.sim.brightness)
        if state == self._last:
            return
        self._last = state
        self.count += 1
        n = len(self.sim.pages)
        if self.directory is not None:
            for i in range(max(1, n)):
                self._save(page_png(self.count, i + 1), i)
            self._save(LATEST_PNG, 0)
            self._write_state()
        print(f"display changed: {n} page{'s' * (n != 1)}, brightness {self.sim.brightness}",
              flush=True)
