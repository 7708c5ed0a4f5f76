"""`juwu demo`: the production path with demo keys and simulated boards, run as processes.

Every part runs as the `juwu` subcommand an installation runs (`keys init`, `hub init`,
`hub serve`, `publish`, `sync`, `board simulate`, `board run`, `kiosk`; with a display also
`board watch`, the boards' live previews), so the demo has no shortcut production lacks,
and content/ imports nothing from display_driver/ or kiosk/ (the layering rule in
docs/architecture.md). Each child runs in its own process group, so a Ctrl-C reaches
only this orchestrator, which then stops the children in reverse order (SIGTERM to the
group, SIGKILL after a grace period); children also get SIGTERM from the kernel if the
orchestrator dies without cleaning up (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType
from typing import IO

import requests

STOP_GRACE_S = 5.0
START_DEADLINE_S = 60.0
STEP_DEADLINE_S = 120.0
POLL_S = 0.1
DEMO_SUBDIRS = ("keys", "hub", "device", "content", "boards", "logs", "out", "juwu.toml")


class DemoError(RuntimeError):
    """A step of the demo failed; the message says which and where its log is."""


@dataclass(frozen=True)
class DemoBoard:
    """One simulated board: a protocol, a size and how the driver reaches it."""

    name: str
    protocol: str
    width: int
    height: int
    address: int
    listen: str  # "pty" (an RS-485 adapter) or "0" (a serial server on a TCP port)


BOARDS = (
    DemoBoard("hall", "onbon-bx5e", 128, 32, 1, "pty"),  # service hall, Onbon 5th gen
    DemoBoard("gate", "alpha", 96, 16, 0, "0"),  # community gate, Alpha sign on TCP
)


def juwu_command() -> list[str]:
    """How to run `juwu` with this interpreter (the venv's script if it is there)."""
    script = Path(sys.executable).with_name("juwu")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from content.cli import main; sys.exit(main())"]


def has_display(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the orchestrator dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    service: bool  # runs until stopped: exiting on its own is a failure of the demo

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Processes:
    """The demo's children: started in their own process groups, stopped in reverse."""

    juwu: list[str]
    env: dict[str, str]
    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, args: Sequence[str], *, service: bool = True) -> Child:
        log = self.log_dir / f"{name}.log"
        out: IO[bytes]
        with open(log, "ab") as out:
            proc = subprocess.Popen([*self.juwu, *args], env=self.env, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, preexec_fn=_die_with_parent)
        child = Child(name, proc, log, service)
        self.children.append(child)
        return child

    def run(self, name: str, args: Sequence[str], timeout_s: float = STEP_DEADLINE_S,
            ok: Sequence[int] = (0,)) -> Child:
        """One step to completion (still stoppable by Ctrl-C: it is a tracked child)."""
        child = self.start(name, args, service=False)
        try:
            code = child.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise DemoError(f"`juwu {' '.join(args)}` took over {timeout_s:.0f} s; "
                            f"see {child.log}") from None
        if code not in ok:
            raise DemoError(f"`juwu {' '.join(args)}` failed (exit {code}):\n"
                            f"{child.tail()}\n(full log: {child.log})")
        return child

    def check_alive(self) -> None:
        for c in self.children:
            code = c.proc.poll()
            if code is not None and c.service:
                raise DemoError(f"{c.name} stopped (exit {code}):\n{c.tail()}\n"
                                f"(full log: {c.log})")

    def stop_all(self) -> None:
        """SIGTERM each group, newest first; SIGKILL whatever outlives the grace period."""
        for c in reversed(self.children):
            _signal_group(c.proc, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                c.proc.wait(timeout=STOP_GRACE_S)
            _signal_group(c.proc, signal.SIGKILL)  # stragglers in the group, if any
            with contextlib.suppress(subprocess.TimeoutExpired):
                c.proc.wait(timeout=STOP_GRACE_S)
        self.children.clear()


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)  # start_new_session: the group id is the child's pid


def wait_for(what: str, predicate: Callable[[], bool], check: Callable[[], None],
             deadline_s: float = START_DEADLINE_S) -> None:
    """Poll a condition another process brings about, up to a deadline."""
    deadline = time.monotonic() + deadline_s
    while not predicate():
        check()
        if time.monotonic() > deadline:
            raise DemoError(f"gave up waiting for {what} after {deadline_s:.0f} s")
        time.sleep(POLL_S)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now (for the hub)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_config(path: Path, *, device_dir: Path, hub_dir: Path, hub_port: int,
                 trusted_root: Path, token: str, token_sha256: str,
                 board_ports: dict[str, str]) -> None:
    """One configuration for every demo process, as an installation would have per box."""
    lines = [
        f"[paths]\ndata_dir = {_toml(device_dir)}\n",
        "[sync]",
        f"hub_url = {_toml(f'http://127.0.0.1:{hub_port}')}",
        f"trusted_root = {_toml(trusted_root)}",
        "poll_interval_s = 30.0\npoll_jitter_s = 1.0\n",
        "[hub]",
        f'host = "127.0.0.1"\nport = {hub_port}\ndata_dir = {_toml(hub_dir)}',
        f"staff_token_sha256 = {_toml(token_sha256)}\nstaff_token = {_toml(token)}\n",
    ]
    for b in BOARDS:
        lines.append(f"[[boards]]\nname = {_toml(b.name)}\nprotocol = {_toml(b.protocol)}\n"
                     f"port = {_toml(board_ports[b.name])}\nwidth = {b.width}\n"
                     f"height = {b.height}\naddress = {b.address}\n")
    path.write_text("\n".join(lines), encoding="utf-8")


def _toml(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


@dataclass
class Demo:
    """Paths of one demo run, all under ``root``."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "juwu.toml"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def hub(self) -> Path:
        return self.root / "hub"

    @property
    def device(self) -> Path:
        return self.root / "device"

    @property
    def content(self) -> Path:
        return self.root / "content"

    @property
    def boards(self) -> Path:
        return self.root / "boards"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def reset(self) -> None:
        """Start clean: remove what an earlier demo run left (only the demo's own names)."""
        self.root.mkdir(parents=True, exist_ok=True)
        for name in DEMO_SUBDIRS:
            p = self.root / name
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
        for p in (self.logs, self.boards):
            p.mkdir(parents=True)


@contextlib.contextmanager
def _interrupts_raise() -> Iterator[None]:
    """SIGTERM and SIGHUP stop the demo like Ctrl-C does (children stopped in `finally`)."""
    def raise_interrupt(_sig: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, raise_interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _say(message: str) -> None:
    print(message, flush=True)


def run_demo(root: Path, anchor: dt.date, *, headless: bool, seconds: float,
             write_content: Callable[[Path, dt.date], int],
             overview: Callable[[Path], str] | None = None) -> Path | None:
    """Run the whole pipeline; returns the output folder (headless) or None (windowed).

    ``write_content(dir, anchor)`` writes the demo community as a content directory and
    returns its file count; ``overview(db)`` renders what the synced cache holds.

    Raises:
        DemoError: a step failed (its log is named in the message).
        KeyboardInterrupt: Ctrl-C, SIGTERM or SIGHUP; every child is stopped first.
    """
    demo = Demo(root)
    demo.reset()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUWU_")}
    env["JUWU_CONFIG"] = str(demo.config)
    env["PYTHONUNBUFFERED"] = "1"
    procs = Processes(juwu_command(), env, demo.logs)
    with _interrupts_raise():
        try:
            return _pipeline(demo, procs, anchor, headless=headless, seconds=seconds,
                             write_content=write_content, overview=overview)
        finally:
            if procs.children:
                _say("stopping the demo's processes …")
            procs.stop_all()


def _pipeline(demo: Demo, procs: Processes, anchor: dt.date, *, headless: bool,
              seconds: float, write_content: Callable[[Path, dt.date], int],
              overview: Callable[[Path], str] | None) -> Path | None:
    from content.hub.app import new_staff_token

    _say(f"juwu demo in {demo.root} (logs in {demo.logs})")
    # 1. Key ceremony with demo keys; the hub gets root.json and its online keys only.
    port = free_port()
    token, digest = new_staff_token()
    board_ports = {"hall": str(demo.boards / "ttyUSB-hall"), "gate": "socket://pending"}

    def configure() -> None:
        write_config(demo.config, device_dir=demo.device, hub_dir=demo.hub, hub_port=port,
                     trusted_root=demo.keys / "root.json", token=token, token_sha256=digest,
                     board_ports=board_ports)

    configure()  # first: every `juwu` below reads it (JUWU_CONFIG)
    procs.run("keys", ["keys", "init", str(demo.keys)])
    procs.run("hub-init", ["hub", "init", "--keys", str(demo.keys / "hub")])
    _say("1/6 demo keys made (root 2-of-3, approver, hub online keys)")

    # 2. The hub, on 127.0.0.1 only.
    procs.start("hub", ["hub", "serve"])
    url = f"http://127.0.0.1:{port}"
    wait_for("the hub to answer /healthz", lambda: _healthy(url), procs.check_alive)
    _say(f"2/6 hub serving {url}")

    # 3. Staff author and publish: the demo community as a content directory, signed.
    n = write_content(demo.content, anchor)
    procs.run("publish", ["publish", str(demo.content),
                          "--key", str(demo.keys / "approvers" / "targets-1.pem")])
    _say(f"3/6 published the demo community ({n} files) signed with the approver's key")

    # 4. The device syncs over HTTP, verifying every signature.
    procs.run("sync", ["sync"])
    _say(f"4/6 device synced: cache {demo.device / 'cache.sqlite3'}")

    # 5. Two simulated boards of different protocols and sizes, and the driver.
    sims = {}
    for b in BOARDS:
        args = ["board", "simulate", "--protocol", b.protocol, "--size",
                f"{b.width}x{b.height}", "--address", str(b.address), "--listen", b.listen,
                "--png-dir", str(demo.boards / b.name)]
        if b.listen == "pty":
            args += ["--link", board_ports[b.name]]
        sims[b.name] = procs.start(f"sim-{b.name}", args)
    for b in BOARDS:
        sim = sims[b.name]
        wait_for(f"the {b.name} simulator", partial(_is_listening, sim), procs.check_alive)
        where = _listening(sim)
        assert where is not None
        if b.listen != "pty":
            board_ports[b.name] = where
    configure()
    procs.start("board-run", ["board", "run"])
    pngs = {b.name: demo.boards / b.name / "latest.png" for b in BOARDS}
    wait_for("both boards to show something", lambda: all(p.exists() for p in pngs.values()),
             procs.check_alive)
    started = time.monotonic()
    _say("5/6 boards driven from the synced cache; live previews (updated on every change):")
    for b in BOARDS:
        _say(f"      {b.name}: {b.protocol} {b.width}x{b.height} → {pngs[b.name]}")

    # 6. The kiosk: a window beside the boards' live previews, or screenshots of every screen.
    if not headless:
        # Closing the previews is allowed (not a service); the kiosk window ends the demo.
        watch = procs.start("board-watch", ["board", "watch", str(demo.boards)], service=False)
        _say(f"      and live in a second window: juwu board watch {demo.boards}")
        _say("6/6 kiosk window open (close it or press Ctrl-C to stop the demo)")
        kiosk = procs.start("kiosk", ["kiosk", "--windowed"], service=False)
        watch_reported = False
        while kiosk.proc.poll() is None:
            procs.check_alive()
            if not watch_reported and watch.proc.poll() not in (None, 0):
                watch_reported = True
                _say(f"      the board previews stopped (exit {watch.proc.returncode}); "
                     f"see {watch.log}")
            time.sleep(POLL_S * 5)  # watching children, not waiting for a result
        if kiosk.proc.returncode != 0:
            raise DemoError(f"the kiosk stopped (exit {kiosk.proc.returncode}):\n"
                            f"{kiosk.tail()}\n(full log: {kiosk.log})")
        return None
    shots = demo.out / "kiosk"
    procs.run("kiosk", ["kiosk", "--screenshots", str(shots), "--no-sync"])
    _say(f"6/6 kiosk screenshots: {len(list(shots.glob('*.png')))} screens → {shots}")
    remaining = seconds - (time.monotonic() - started)
    if remaining > 0:
        _say(f"      boards keep running for {remaining:.0f} s more …")
        end = time.monotonic() + remaining
        while time.monotonic() < end:
            procs.check_alive()
            time.sleep(POLL_S * 5)  # --seconds is how long the demo runs, by request
    board_out = demo.out / "boards"
    for b in BOARDS:
        shutil.copytree(demo.boards / b.name, board_out / b.name)
    n_boards = len(list(board_out.rglob("*.png")))
    if overview is not None:
        _say(overview(demo.device / "cache.sqlite3"))
    _say(f"\nboard PNGs: {n_boards} → {board_out}\nkiosk screenshots: {shots}\n"
         f"everything the demo wrote: {demo.out}")
    return demo.out


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


_WHERE = re.compile(r"^simulating .* on (\S+)", re.MULTILINE)


def _is_listening(sim: Child) -> bool:
    return _listening(sim) is not None


def _listening(sim: Child) -> str | None:
    """Where a `juwu board simulate` listens, once it printed so."""
    try:
        m = _WHERE.search(sim.log.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    return m.group(1) if m else None
