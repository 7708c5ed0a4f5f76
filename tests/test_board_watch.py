"""`juwu board watch`: the live previews show exactly the LEDs a simulated board shows, and
follow it when it changes. Real processes throughout: `juwu board simulate` on TCP ports,
the driver's Board and SerialPort sending to them, Kivy headless (SDL offscreen)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from content.config import BoardConfig
from display_driver.bitmap import Bitmap
from display_driver.driver import Board
from display_driver.preview_window import BoardFeed, discover, leds_from_png, page_png
from display_driver.simulator import render_face
from display_driver.transport import SerialPort
from tests.test_cli import JUWU, run

HALL = ("hall", "onbon-bx5e", 128, 32, 1)
GATE = ("gate", "alpha", 96, 16, 0)
LONG = "紧急通知：明日9:00-12:00停水，请提前储水"  # two pages on the hall board
HEADLESS = {"SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1"}

# Drives the real window in its own process (Kivy's window is one per process): a
# screenshot, then - once the test changed the board - Clock ticks until the window's own
# poll noticed, and a second screenshot.
LIVE = """
import sys, time
from pathlib import Path
from display_driver import preview_window as pw

boards, out = Path(sys.argv[1]), Path(sys.argv[2])
feeds = pw.discover([boards])
pw.prepare_kivy(out / "kivy", size=pw.window_size(feeds), headless=True)
from kivy.base import EventLoop, runTouchApp

window = pw.PreviewWindow(feeds, font=pw.find_cjk_font(), poll_s=0.1, page_s=0)
window.start()
runTouchApp(window.root, embedded=True)

def frames(n):
    for _ in range(n):
        EventLoop.idle()

frames(5)
window.screenshot(out / "before.png")
print("before", flush=True)
sys.stdin.readline()
deadline = time.monotonic() + 15
while window.updates == 0 and time.monotonic() < deadline:
    frames(1)
    time.sleep(0.01)
frames(5)
window.screenshot(out / "after.png")
print("after", window.updates, flush=True)
EventLoop.close()
"""


class Sim:
    """A `juwu board simulate` on a TCP port, saving its PNGs in ``boards/<name>``."""

    def __init__(self, tmp: Path, name: str, protocol: str, width: int, height: int,
                 address: int) -> None:
        self.cfg = BoardConfig(name=name, protocol=protocol, port="socket://pending",
                               width=width, height=height, address=address, timeout_s=5)
        self.dir = tmp / "boards" / name
        self.proc = subprocess.Popen(
            [JUWU, "--data-dir", str(tmp), "board", "simulate", "--protocol", protocol,
             "--size", f"{width}x{height}", "--address", str(address), "--listen", "0",
             "--png-dir", str(self.dir)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        assert first.startswith("simulating"), first
        self.url = first.split(" on ")[-1].strip()

    def show(self, text: str) -> list[Bitmap]:
        """Send ``text`` as the driver does; returns the pages the board got. The board
        answers only after it handled the frames, so its PNGs are written on return."""
        board = Board(self.cfg)
        frames, _ = board.prepare(text)
        port = SerialPort(self.url, board.serial)
        try:
            board.send(port, frames)
        finally:
            port.close()
        return list(board.renderer.render(text, self.cfg.width, self.cfg.height,
                                          align="center").pages)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        assert self.proc.returncode == 0, out


@pytest.fixture
def sims(tmp_path: Path) -> Iterator[dict[str, Sim]]:
    started: dict[str, Sim] = {}
    try:
        for spec in (HALL, GATE):
            started[spec[0]] = Sim(tmp_path, *spec)
        yield started
    finally:
        for sim in started.values():
            sim.stop()


def boards_in(shot: Path, sizes: list[tuple[int, int]]) -> list[Bitmap]:
    """The LEDs of each board in a window screenshot, top to bottom. A board is a band of
    reddish rows (lit and unlit LEDs; the labels are grey; one dark row between LED rows);
    its LED size follows from its width, since the dot of the last LED ends one pixel
    before its cell does."""
    img = Image.open(shot).convert("RGB")
    r, g, _b = img.split()
    reddish = ImageChops.subtract(r, g).point(lambda v: 255 if v > 20 else 0)
    bands: list[tuple[int, int]] = []
    for y in range(img.height):
        if reddish.crop((0, y, img.width, y + 1)).getbbox():
            if bands and bands[-1][1] >= y - 2:
                bands[-1] = (bands[-1][0], y)
            else:
                bands.append((y, y))
    assert len(bands) == len(sizes), f"{len(bands)} boards in {shot}, expected {len(sizes)}"
    found = []
    for (top, bottom), (w, h) in zip(bands, sizes, strict=True):
        box = reddish.crop((0, top, img.width, bottom + 1)).getbbox()
        assert box is not None
        left, right = box[0], box[2] - 1
        led = (right - left + 2) // w
        assert led >= 3, f"LEDs of {led} px are not LED-like"
        assert bottom - top + 2 == h * led, "the board is not drawn whole"
        face = img.crop((left, top, left + w * led, top + h * led))
        found.append(leds_from_png(face, w, h, led))
    return found


def test_leds_survive_the_png_at_every_brightness() -> None:
    page = Board(BoardConfig(name="x", protocol="onbon-bx5e", port="loop://", width=64,
                             height=16)).renderer.render("停水", 64, 16).pages[0]
    assert page != Bitmap.blank(64, 16)
    for brightness in (0, 7, 15):
        face = render_face(page, 64, 16, scale=4, brightness=brightness)
        assert leds_from_png(face, 64, 16) == page
    assert leds_from_png(render_face(None, 64, 16), 64, 16) == Bitmap.blank(64, 16)


def test_feed_follows_the_simulator(sims: dict[str, Sim]) -> None:
    hall = sims["hall"]
    (feed,) = discover([hall.dir])
    assert (feed.name, feed.protocol, feed.width, feed.height) == ("hall", "onbon-bx5e",
                                                                   128, 32)
    assert feed.pages == [] and not feed.poll()  # nothing shown yet, nothing new
    pages = hall.show(LONG)
    assert feed.poll() and feed.pages == pages and len(pages) == 2
    assert feed.page_index(feed.shown_since + 5.5, 5.0) == 1  # pages take turns
    state = json.loads((hall.dir / "board.json").read_text(encoding="utf-8"))
    assert (hall.dir / page_png(state["snapshot"], 2)).is_file()
    assert not list(hall.dir.glob(".*.part"))  # every file was renamed into place
    assert BoardFeed(hall.dir / "missing").poll() is False


def test_screenshot_shows_each_board_as_it_is(sims: dict[str, Sim], tmp_path: Path) -> None:
    hall_pages = sims["hall"].show(LONG)
    gate_pages = sims["gate"].show("欢迎回家")
    shot = tmp_path / "watch.png"
    res = run(tmp_path, "board", "watch", str(tmp_path / "boards"), "--screenshot", str(shot),
              env=HEADLESS)
    assert res.returncode == 0, res.stderr
    assert f"2 boards -> {shot}" in res.stdout
    gate, hall = boards_in(shot, [(96, 16), (128, 32)])  # sorted by name
    assert gate == gate_pages[0] and hall == hall_pages[0]


def test_the_window_follows_a_change(sims: dict[str, Sim], tmp_path: Path) -> None:
    first = sims["hall"].show("停水通知")
    env = {**os.environ, **HEADLESS}
    child = subprocess.Popen([sys.executable, "-c", LIVE, str(tmp_path / "boards"),
                              str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline() == "before\n"
        second = sims["hall"].show("今晚七点业主大会")
        assert second != first
        child.stdin.write("go\n")
        child.stdin.flush()
        after = child.stdout.readline()
        assert after.startswith("after ") and int(after.split()[1]) >= 1, after
        assert child.wait(30) == 0
    finally:
        if child.poll() is None:
            child.kill()
        _, err = child.communicate(timeout=30)
    assert "Traceback" not in err, err
    blank = Bitmap.blank(96, 16)
    assert boards_in(tmp_path / "before.png", [(96, 16), (128, 32)]) == [blank, first[0]]
    assert boards_in(tmp_path / "after.png", [(96, 16), (128, 32)]) == [blank, second[0]]


def test_says_what_is_wrong(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run(tmp_path, "board", "watch", str(empty), "--screenshot", str(tmp_path / "x.png"))
    assert res.returncode == 2 and "no simulated boards in" in res.stderr
    res = run(tmp_path, "board", "watch", str(tmp_path / "nope"))
    assert res.returncode == 2 and "is not a folder" in res.stderr
    (empty / "hall").mkdir()
    (empty / "hall" / "board.json").write_text('{"width": 8, "height": 8}', encoding="utf-8")
    res = run(tmp_path, "board", "watch", str(empty), env={"DISPLAY": "", "WAYLAND_DISPLAY": ""})
    assert res.returncode == 2 and "--screenshot FILE" in res.stderr
    assert "Traceback" not in res.stderr
