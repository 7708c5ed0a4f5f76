"""``juwu board watch``: a window showing what each simulated board shows right now.

``juwu board simulate --png-dir DIR`` writes every change of its display to ``DIR``: one
PNG per page (``NNNN-pK.png``), ``latest.png`` and, last, ``board.json`` (the board's
protocol and size and which snapshot is current), each replaced atomically. The format is
defined here, next to its reader (:class:`BoardFeed`, no Kivy); ``display_driver.cli``
writes it. The window reads the LEDs back out of the PNGs and draws them with the
simulator's own :func:`~display_driver.simulator.render_face` at whatever LED size the
window allows, so the boards look like boards at any size, not like blurred thumbnails.

Kivy reads its environment and Config once, at its first import, so it is imported only
inside :func:`prepare_kivy` and after it: this module stays importable without a display.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from PIL import Image

from content.fonts import find_ui_font

from .bitmap import Bitmap
from .render import bitmap_from_image
from .simulator import LED_OFF_RGB, LED_ON_RGB, render_face

STATE_FILE: Final = "board.json"
LATEST_PNG: Final = "latest.png"
SNAPSHOT_SCALE: Final = 4  # screen pixels per LED in the simulator's PNGs
LIT_RED: Final = (LED_OFF_RGB[0] + round(LED_ON_RGB[0] * 0.35)) // 2  # dimmest lit vs unlit
BACKGROUND: Final = (0.05, 0.05, 0.05, 1)
PAD: Final = 12
LABEL_H: Final = 30
TITLE_H: Final = 36
LED_PX: Final = 8  # screen pixels per LED the window opens with
MAX_WINDOW: Final = (1280, 960)


def page_png(snapshot: int, page: int) -> str:
    """File name of page ``page`` (from 1) of the ``snapshot``-th change of a board."""
    return f"{snapshot:04d}-p{page}.png"


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp_path)``, then rename over ``path``: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.part")
    write(tmp)
    os.replace(tmp, path)


def leds_from_png(img: Image.Image, width: int, height: int,
                  scale: int = SNAPSHOT_SCALE) -> Bitmap:
    """Which LEDs a simulator PNG shows lit: any clearly red pixel in an LED's cell."""
    red = img.convert("RGB").getchannel("R").crop((0, 0, width * scale, height * scale))
    lit = red.point(lambda v: 255 if v > LIT_RED else 0).reduce(scale)
    return bitmap_from_image(lit.point(lambda v: 255 if v else 0).convert("1"))


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


@dataclass
class BoardFeed:
    """One simulator's ``--png-dir``; :meth:`poll` reloads it when the simulator wrote."""

    directory: Path
    protocol: str = "?"
    width: int = 0  # LEDs; 0 until known
    height: int = 0
    brightness: int = 15
    pages: list[Bitmap] = field(default_factory=list)  # empty: nothing shown yet
    updated: dt.datetime | None = None  # when the shown snapshot was written
    shown_since: float = 0.0  # time.monotonic() of the last change, for page turns
    version: int = 0  # counts the changes read, so a window knows what it drew
    _stamp: tuple[int, int, int] | None = None

    @property
    def name(self) -> str:
        return self.directory.name

    def poll(self) -> bool:
        """Read the folder again if the simulator wrote to it; True when it changed.

        A snapshot that cannot be read (being replaced, deleted) is skipped: the old one
        stays and the next poll tries again.
        """
        state = self.directory / STATE_FILE
        source = state if state.exists() else self.directory / LATEST_PNG
        stamp = _stamp(source)
        if stamp is None or stamp == self._stamp:
            return False
        try:
            if source is state:
                self._load_state(state)
            else:
                self._load_pngs([source], SNAPSHOT_SCALE)
        except (OSError, ValueError, KeyError, TypeError):
            return False
        self._stamp = stamp
        self.version += 1
        self.updated = dt.datetime.fromtimestamp(stamp[0] / 1e9)
        self.shown_since = time.monotonic()
        return True

    def _load_state(self, path: Path) -> None:
        info = json.loads(path.read_text(encoding="utf-8"))
        self.width, self.height = int(info["width"]), int(info["height"])
        snapshot, n = int(info.get("snapshot", 0)), int(info.get("pages", 0))
        files = [self.directory / page_png(snapshot, i) for i in range(1, n + 1)]
        self._load_pngs(files if snapshot else [], int(info.get("scale", SNAPSHOT_SCALE)))
        self.protocol = str(info.get("protocol", "?"))
        self.brightness = int(info.get("brightness", 15))

    def _load_pngs(self, files: Sequence[Path], scale: int) -> None:
        images = []
        for f in files:
            with Image.open(f) as img:
                images.append(img.convert("RGB"))
        if images and not self.width:  # a bare latest.png: the size follows from the PNG
            self.width, self.height = images[0].width // scale, images[0].height // scale
        self.pages = [leds_from_png(img, self.width, self.height, scale) for img in images]

    def page_index(self, now: float, page_s: float) -> int:
        """The page a real board shows ``now``: pages take turns of ``page_s`` seconds."""
        if len(self.pages) < 2 or page_s <= 0:
            return 0
        return int((now - self.shown_since) / page_s) % len(self.pages)

    def face(self, page: int, led_px: int) -> Image.Image:
        """Page ``page`` as passers-by see it, ``led_px`` screen pixels per LED."""
        bmp = self.pages[page % len(self.pages)] if self.pages else None
        return render_face(bmp, max(1, self.width), max(1, self.height), scale=led_px,
                           brightness=self.brightness)


def is_board_dir(path: Path) -> bool:
    return (path / STATE_FILE).is_file() or (path / LATEST_PNG).is_file()


def discover(paths: Iterable[Path]) -> list[BoardFeed]:
    """A feed for each path that is a simulator's ``--png-dir``, else for each such folder
    inside it (``juwu demo`` keeps one per board in ``boards/``), each read once.

    Raises:
        FileNotFoundError: a path is not a folder.
    """
    feeds = []
    for path in paths:
        if not path.is_dir():
            raise FileNotFoundError(f"{path} is not a folder")
        dirs = [path] if is_board_dir(path) else sorted(
            p for p in path.iterdir() if p.is_dir() and is_board_dir(p))
        feeds += [BoardFeed(d) for d in dirs]
    for f in feeds:
        f.poll()
    return feeds


def find_cjk_font() -> Path | None:
    """The kiosk's font, else any Simplified-Chinese font fontconfig knows; None: the
    labels fall back to English in Kivy's own font."""
    return find_ui_font(fontconfig=True)


def chrome_height(n_boards: int) -> int:
    """Window height not used by the boards: padding, title, one label per board."""
    return 2 * PAD + TITLE_H + n_boards * LABEL_H + (2 * n_boards + 1) * PAD


def led_px_for(feeds: Sequence[BoardFeed], room: tuple[float, float]) -> int:
    """One LED size for every board (so their sizes compare), as large as fits ``room``."""
    widest = max((max(1, f.width) for f in feeds), default=1)
    tall = sum(max(1, f.height) for f in feeds) or 1
    return max(1, int(min(room[0] / widest, room[1] / tall)))


def window_size(feeds: Sequence[BoardFeed]) -> tuple[int, int]:
    """Room for every board at ``LED_PX`` per LED, within a laptop screen."""
    widest = max((max(1, f.width) for f in feeds), default=40)
    width = min(MAX_WINDOW[0], max(640, widest * LED_PX + 2 * PAD))
    px = led_px_for(feeds, (width - 2 * PAD, MAX_WINDOW[1] - chrome_height(len(feeds))))
    return width, chrome_height(len(feeds)) + sum(max(1, f.height) * px for f in feeds)


def prepare_kivy(kivy_home: Path, *, size: tuple[int, int], headless: bool) -> None:
    """Kivy's environment and Config, before any other ``kivy`` import."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_HOME", str(kivy_home))
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
    from kivy.config import Config  # type: ignore[import-untyped]

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "1")
    Config.set("graphics", "fullscreen", "0")
    Config.set("kivy", "desktop", "1")
    Config.set("input", "mouse", "mouse,disable_multitouch")


class PreviewWindow:
    """The window's widgets and the poll that keeps them current. Needs
    :func:`prepare_kivy` first; Kivy's widgets are composed here, not subclassed."""

    def __init__(self, feeds: Sequence[BoardFeed], *, font: Path | None,
                 poll_s: float = 0.5, page_s: float = 5.0) -> None:
        from kivy.core.window import Window  # type: ignore[import-untyped]
        from kivy.uix.boxlayout import BoxLayout  # type: ignore[import-untyped]

        self.feeds = list(feeds)
        self.poll_s, self.page_s = poll_s, page_s
        self.zh = font is not None
        self.updates = 0  # changes read from the simulators' folders (tests wait on it)
        self._font = {"font_name": str(font)} if font else {}
        self._drawn: list[tuple[int, int, int] | None] = [None] * len(self.feeds)
        self._rects: list[Any] = [None] * len(self.feeds)
        Window.clearcolor = BACKGROUND
        Window.set_title("居务 · 显示屏实时预览" if self.zh else "juwu: live board previews")
        self.root = BoxLayout(orientation="vertical", padding=PAD, spacing=PAD)
        self.root.add_widget(self._label(
            "显示屏实时预览：每块模拟屏此刻显示的内容" if self.zh
            else "Live previews: what each simulated board shows now",
            TITLE_H, 20, (1, 1, 1, 1)))
        self._labels: list[Any] = []
        self._screens: list[Any] = []
        for _ in self.feeds:
            self._labels.append(self._label("", LABEL_H, 16, (0.8, 0.8, 0.8, 1)))
            self._screens.append(BoxLayout(size_hint_y=None, height=0))
            self._screens[-1].bind(pos=self._place)
            self.root.add_widget(self._labels[-1])
            self.root.add_widget(self._screens[-1])
        self.root.add_widget(BoxLayout())  # whatever room is left, below the boards
        self.root.bind(size=self._redraw)
        self._redraw()

    def _label(self, text: str, height: float, font_size: float,
               colour: tuple[float, ...]) -> Any:
        from kivy.uix.label import Label  # type: ignore[import-untyped]

        label = Label(text=text, size_hint_y=None, height=height, font_size=font_size,
                      color=colour, halign="left", valign="middle", shorten=True,
                      **self._font)
        label.bind(size=lambda w, s: setattr(w, "text_size", s))
        return label

    def start(self) -> None:
        """Poll the folders every ``poll_s`` (the Clock holds ``self`` weakly: keep it)."""
        from kivy.clock import Clock  # type: ignore[import-untyped]

        Clock.schedule_interval(self._tick, self.poll_s)

    def _tick(self, _dt: float) -> None:
        self.updates += sum(f.poll() for f in self.feeds)
        self._redraw()

    def led_px(self) -> int:
        room = (self.root.width - 2 * PAD, self.root.height - chrome_height(len(self.feeds)))
        return led_px_for(self.feeds, room)

    def _redraw(self, *_args: Any) -> None:
        """Draw again each board whose snapshot, page or LED size is not what is drawn."""
        now, px = time.monotonic(), self.led_px()
        for i, feed in enumerate(self.feeds):
            page = feed.page_index(now, self.page_s)
            wanted = (feed.version, page, px)
            if wanted == self._drawn[i]:
                continue
            self._drawn[i] = wanted
            self._labels[i].text = self.describe(feed, page)
            self._draw(i, feed.face(page, px))

    def describe(self, feed: BoardFeed, page: int) -> str:
        """The line above a board: name, protocol, size, last change, page."""
        parts = [feed.name, feed.protocol, f"{feed.width}×{feed.height}"]
        when = feed.updated.strftime("%H:%M:%S") if feed.updated else "?"
        if not feed.pages:
            parts.append("尚未显示内容" if self.zh else "nothing shown yet")
        else:
            parts.append(f"更新于 {when}" if self.zh else f"updated {when}")
        if len(feed.pages) > 1:
            n = len(feed.pages)
            parts.append(f"第 {page + 1}/{n} 页" if self.zh else f"page {page + 1}/{n}")
        return "  ·  ".join(parts)

    def _draw(self, i: int, img: Image.Image) -> None:
        from kivy.graphics import Color, Rectangle  # type: ignore[import-untyped]
        from kivy.graphics.texture import Texture  # type: ignore[import-untyped]

        texture = Texture.create(size=img.size, colorfmt="rgb")
        texture.mag_filter = texture.min_filter = "nearest"  # crisp LEDs, never blurred
        texture.blit_buffer(img.tobytes(), colorfmt="rgb", bufferfmt="ubyte")
        texture.flip_vertical()  # PIL rows run top-down, OpenGL's bottom-up
        screen = self._screens[i]
        screen.canvas.clear()
        with screen.canvas:
            Color(1, 1, 1, 1)
            self._rects[i] = Rectangle(texture=texture, size=img.size)
        screen.height = img.height
        self._place(screen)

    def _place(self, screen: Any, *_args: Any) -> None:
        rect = self._rects[self._screens.index(screen)]
        if rect is not None:
            rect.pos = (round(screen.x), round(screen.y))

    def screenshot(self, path: Path) -> Path:
        """Save the window as a PNG at ``path`` (Kivy numbers the name it is given)."""
        from kivy.core.window import Window

        path.parent.mkdir(parents=True, exist_ok=True)
        written = Window.screenshot(name=str(path))
        os.replace(written, path)
        return path


def run(feeds: Sequence[BoardFeed], *, kivy_home: Path, screenshot: Path | None = None,
        poll_s: float = 0.5, page_s: float = 5.0, settle_frames: int = 3) -> Path | None:
    """Open the window until it is closed; with ``screenshot``, headless: draw it, save
    the PNG there, close, and return its path."""
    prepare_kivy(kivy_home, size=window_size(feeds), headless=screenshot is not None)
    from kivy.base import runTouchApp, stopTouchApp  # type: ignore[import-untyped]
    from kivy.clock import Clock

    window = PreviewWindow(feeds, font=find_cjk_font(), poll_s=poll_s, page_s=page_s)
    window.start()
    saved: list[Path] = []
    if screenshot is not None:
        frames = [0]

        def settle(_dt: float) -> bool:
            frames[0] += 1
            if frames[0] < settle_frames:
                return True
            saved.append(window.screenshot(screenshot))
            stopTouchApp()
            return False

        Clock.schedule_interval(settle, 0)
    runTouchApp(window.root)
    return saved[0] if saved else None
