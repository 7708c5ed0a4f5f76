"""LED boards: bytes and time per update against the serial line's own wire time, render +
encode throughput, and the driver's CPU use while idle.

    .venv/bin/python -m bench.board_bench                 # 9600 and 115200 baud, 3 runs
    .venv/bin/python -m bench.board_bench --repeat 1 --bauds 115200 --idle-s 1   # quick

1. Each protocol's update (render, encode, send, verify, as ``juwu board run`` does it)
   goes over a real pty pair to the simulator. Linux ptys accept a termios baud rate but
   ignore it, so the simulator's host paces the line at baud / bits-per-byte in both
   directions; the baseline in the same run is the line's own wire time (bytes x bits per
   byte / baud) plus the board's reply time (the simulator decoding and answering, and any
   pause the protocol demands). What is left over is the driver's own overhead.
2. Render + encode of distinct texts on a 192x64 board, frames/s, against the updates per
   second a 115200-baud line can carry.
3. ``juwu board run`` as a real process with one simulated board: CPU seconds used over
   ``--idle-s`` seconds once the board shows its item.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.search_bench import machine
from content.config import BoardConfig
from display_driver.driver import Board, Content
from display_driver.protocols import BoardGeometry, OnbonGraphic, ShowOptions
from display_driver.render import Renderer
from display_driver.simhost import PtyHost
from display_driver.simulator import make_simulator
from display_driver.transport import SerialPort

TEXT = "紧急通知：明日9:00-12:00停水，请居民提前储水。"
BOARDS = (("onbon-bx5e", 192, 64), ("onbon-bx5k", 192, 64), ("alpha", 96, 16))
TARGET_RATIO = 1.10


@dataclass
class UpdateFigures:
    frames: int
    bytes_out: int
    bytes_back: int
    wire_s: float
    board_s: float  # simulator decode + reply, and pauses the protocol demands
    update_s: float  # median wall time of one update

    @property
    def ratio(self) -> float:
        return self.update_s / (self.wire_s + self.board_s)


def measure_update(protocol: str, width: int, height: int, baud: int,
                   repeat: int, workdir: Path) -> UpdateFigures:
    """One board's update over a pty paced at ``baud``."""
    address = 0 if protocol == "alpha" else 1
    cfg = BoardConfig(name="bench", protocol=protocol, port="loop://", width=width,
                      height=height, address=address, baudrate=baud, timeout_s=5.0)
    board = Board(cfg)
    frames, _ = board.content_frames(Content("bench", TEXT))
    sim = make_simulator(protocol, width, height, address)
    line = board.serial
    host = PtyHost([sim], workdir / f"tty-{protocol}-{baud}",
                   bytes_per_s=line.baudrate / line.bits_per_byte)
    port = SerialPort(str(host.link), line)
    times: list[float] = []
    try:
        board.send(port, frames)  # warm up: open the port, load the font
        assert sim.errors == [], sim.errors
        out0, back0, handle0 = host.received, host.sent, host.handle_s
        for _ in range(repeat):
            t0 = time.perf_counter()
            board.send(port, frames)
            times.append(time.perf_counter() - t0)
        host.wait_for(host.idle)
        bytes_out = (host.received - out0) // repeat
        bytes_back = (host.sent - back0) // repeat
        handle_s = (host.handle_s - handle0) / repeat
    finally:
        port.close()
        host.close()
    gap = getattr(board.protocol, "chunk_gap_s", 0.0)
    pauses = gap * (len(frames) - 1)
    wire_s = line.wire_time_s(bytes_out + bytes_back)
    return UpdateFigures(len(frames) + (0 if board.protocol.replies_to_show else 1),
                         bytes_out, bytes_back, wire_s, handle_s + pauses,
                         statistics.median(times))


def wire_section(bauds: list[int], repeat: int, workdir: Path) -> bool:
    print("\n1. One update on the wire (real pty pair, simulator paced at the baud rate; "
          f"median of {repeat})")
    print(f"{'protocol':<11}{'size':>7}{'baud':>7}{'frames':>7}{'bytes out':>10}"
          f"{'back':>6}{'wire ms':>9}{'board ms':>9}{'update ms':>10}{'excess ms':>10}"
          f"{'ratio':>7}")
    met = True
    for protocol, w, h in BOARDS:
        for baud in bauds:
            f = measure_update(protocol, w, h, baud, repeat, workdir)
            met &= f.ratio <= TARGET_RATIO
            excess = f.update_s - f.wire_s - f.board_s
            print(f"{protocol:<11}{f'{w}x{h}':>7}{baud:>7}{f.frames:>7}{f.bytes_out:>10}"
                  f"{f.bytes_back:>6}{f.wire_s * 1000:>9.1f}{f.board_s * 1000:>9.1f}"
                  f"{f.update_s * 1000:>10.1f}{excess * 1000:>10.1f}{f.ratio:>7.3f}")
    print("wire = (bytes out + back) x bits per byte / baud; board = the simulator decoding "
          "and answering,\nplus the pauses the protocol demands (Alpha: 0.1 s between the "
          "pieces of an update); ratio = update / (wire + board)")
    print(f"target: ratio <= {TARGET_RATIO:.2f} {'met' if met else 'NOT met'}")
    return met


def throughput_section(count: int) -> None:
    print(f"\n2. Render + encode, 192x64 onbon-bx5e, {count} distinct texts")
    renderer = Renderer()
    proto = OnbonGraphic(BoardGeometry(192, 64), 1)
    texts = [f"{TEXT}（第{i}号）" for i in range(count + 1)]
    renderer.render(texts[-1], 192, 64)  # load the font outside the timing
    t0 = time.perf_counter()
    pages = [renderer.render(t, 192, 64, align="center").pages for t in texts[:count]]
    render_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    frames = [proto.encode_show(p, ShowOptions()) for p in pages]
    encode_s = time.perf_counter() - t0
    nbytes = statistics.mean(sum(len(f) for f in fs) for fs in frames)
    fps = count / (render_s + encode_s)
    line_fps = 115200 / 10 / nbytes
    print(f"render {render_s / count * 1000:.2f} ms, encode {encode_s / count * 1000:.2f} ms "
          f"per update ({nbytes:.0f} bytes): {fps:.0f} frames/s")
    print(f"a 115200-baud line carries {line_fps:.1f} such updates/s: render + encode is "
          f"{fps / line_fps:.0f}x faster than the fastest line")


def idle_section(idle_s: float, workdir: Path) -> float:
    print(f"\n3. `juwu board run` idle for {idle_s:g} s with one simulated 192x64 board")
    sim = make_simulator("onbon-bx5e", 192, 64, 1)
    host = PtyHost([sim], workdir / "tty-idle")
    config = workdir / "idle.toml"
    config.write_text(f'[[boards]]\nname = "hall"\nprotocol = "onbon-bx5e"\n'
                      f'port = "{host.link}"\nwidth = 192\nheight = 64\n', encoding="utf-8")
    juwu = str(Path(sys.executable).parent / "juwu")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUWU_")}
    proc = subprocess.Popen([juwu, "--data-dir", str(workdir / "data"), "--config",
                             str(config), "board", "run"], env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    showing = threading.Event()

    def drain() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "hall: showing" in line:
                showing.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        if not showing.wait(60):
            raise RuntimeError("the driver did not show its item within 60 s")
        ticks = os.sysconf("SC_CLK_TCK")
        cpu0, t0 = _cpu_s(proc.pid, ticks), time.monotonic()
        time.sleep(idle_s)
        cpu1, t1 = _cpu_s(proc.pid, ticks), time.monotonic()
    finally:
        proc.terminate()
        proc.wait(30)
        host.close()
    used, wall = cpu1 - cpu0, t1 - t0
    share = used / wall
    if used == 0:  # below the kernel's accounting tick: say so rather than print 0 %
        tick = 1 / ticks
        print(f"CPU < {tick * 1000:.0f} ms in {wall:.1f} s = < {tick / wall * 100:.3f} % of one "
              "core (below the kernel's accounting resolution)")
    else:
        print(f"CPU {used * 1000:.0f} ms in {wall:.1f} s = {share * 100:.3f} % of one core "
              f"(resolution {1000 / ticks:.0f} ms; ~{share * 3600:.1f} CPU s per hour)")
    return share


def _cpu_s(pid: int, ticks: int) -> float:
    """User + system CPU seconds of a running process (/proc/PID/stat fields 14, 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bauds", type=lambda v: [int(b) for b in v.split(",")],
                        default=[9600, 115200], help="comma-separated (default 9600,115200)")
    parser.add_argument("--repeat", type=int, default=3, help="updates timed per line")
    parser.add_argument("--frames", type=int, default=200, help="texts rendered + encoded")
    parser.add_argument("--idle-s", type=float, default=30.0)
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="juwu-board-bench-") as tmp:
        workdir = Path(tmp)
        met = wire_section(args.bauds, args.repeat, workdir)
        throughput_section(args.frames)
        idle_section(args.idle_s, workdir)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
