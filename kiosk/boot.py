"""Everything that must happen before Kivy is imported, and the CJK default font.

Kivy reads its environment and ``kivy.config.Config`` once, at import; and its bundled
Roboto has no Chinese, so a label made before the font is registered renders tofu. Call
:func:`prepare` first, then import ``kiosk.app``.
"""

from __future__ import annotations

import os
from pathlib import Path

from content.fonts import UI_FONT_PACKAGE, find_ui_font


class FontMissingError(RuntimeError):
    """No Simplified-Chinese font: the kiosk would show boxes instead of text."""


def find_font(preferred: str = "") -> Path:
    """The CJK font file to use.

    Raises:
        FontMissingError: neither `preferred` nor a known WenQuanYi file exists.
    """
    font = find_ui_font(preferred)
    if font is not None:
        return font
    raise FontMissingError(
        f"no Simplified-Chinese font found; install {UI_FONT_PACKAGE} (./dev setup does) "
        "or set font = \"/path/to/font.ttf\" in kiosk.toml")


def prepare(*, kivy_home: Path, windowed: bool, size: tuple[int, int] = (1920, 1080),
            headless: bool = False, kiosk_mode: bool = True) -> None:
    """Set Kivy's environment and Config. Must run before any other ``kivy`` import."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # log through `logging`, not Kivy's own
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_HOME", str(kivy_home))
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "system")
    Config.set("kivy", "desktop", "0" if kiosk_mode else "1")
    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "1" if windowed else "0")
    Config.set("graphics", "fullscreen", "0" if windowed or headless else "auto")
    Config.set("graphics", "borderless", "0" if windowed else "1")
    Config.set("graphics", "show_cursor", "1" if windowed else "0")
    Config.set("graphics", "allow_screensaver", "0")  # the screen never blanks
    # No multisample anti-aliasing: the UI is axis-aligned rectangles and text that FreeType
    # already smooths, so MSAA changes no pixel worth seeing but doubles the fill cost of
    # every frame (2x on software GL here: bench/kiosk_bench.py).
    Config.set("graphics", "multisamples", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")  # no red multitouch dots


def register_font(path: Path) -> None:
    """Make `path` Kivy's default font (also for bold/italic: WenQuanYi has no bold file)."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    LabelBase.register(DEFAULT_FONT, fn_regular=str(path), fn_bold=str(path),
                       fn_italic=str(path), fn_bolditalic=str(path))
