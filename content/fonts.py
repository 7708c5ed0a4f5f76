"""Where the Simplified-Chinese UI font is: for the kiosk and the board-preview window.

WenQuanYi Micro Hei (Debian: fonts-wqy-microhei) first: it draws Simplified forms. Debian's
Noto CJK ``.ttc`` opens its *Japanese* face first, which draws some common characters the
Japanese way, so it is only a fall-back found through fontconfig. The boards' pixel font
(GNU Unifont) is display_driver's own business (display_driver/render.py).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

UI_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
)
UI_FONT_PACKAGE = "fonts-wqy-microhei"


def find_ui_font(preferred: str = "", *, fontconfig: bool = False) -> Path | None:
    """`preferred` if it exists, else WenQuanYi Micro Hei; else, when `fontconfig` is True,
    any font fontconfig lists for zh-cn (Micro Hei first); None when there is none."""
    for candidate in (preferred, *UI_FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    fc_list = shutil.which("fc-list") if fontconfig else None
    if fc_list is None:
        return None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([fc_list, ":lang=zh-cn", "file"], capture_output=True,
                             text=True, timeout=10, check=False).stdout
        files = sorted((line.split(":")[0].strip() for line in out.splitlines() if line),
                       key=lambda f: "microhei" not in f.lower())
        if files:
            return Path(files[0])
    return None


__all__ = ["UI_FONT_CANDIDATES", "UI_FONT_PACKAGE", "find_ui_font"]
