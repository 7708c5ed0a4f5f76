"""`juwu doctor` checks for the kiosk: its settings and its Simplified-Chinese font.

Imports no Kivy: the doctor runs on boxes without a display, and Pillow's FreeType says
as well as Kivy's whether a font has a glyph.
"""

from __future__ import annotations

from content.config import Config
from content.doctor import Check
from content.fonts import UI_FONT_PACKAGE, find_ui_font
from kiosk.settings import SettingsError, load_settings, settings_path

# Characters every kiosk screen shows, and some that a font with only Japanese or
# Traditional coverage lacks or draws otherwise.
SAMPLE = "居务公开党务财务社区问题满意度测评办结时间"
UNMAPPED = "\U0010fffd"  # a private-use code point no font draws: its glyph is the "tofu"


def missing_glyphs(font_path: str, text: str = SAMPLE) -> str:
    """The characters of `text` that the font draws as its missing-glyph box (or not at all)."""
    from PIL import ImageFont

    font = ImageFont.truetype(font_path, 32)
    tofu = font.getmask(UNMAPPED)
    tofu_key = (tofu.size, bytes(tofu))
    missing = []
    for char in text:
        mask = font.getmask(char)
        if mask.getbbox() is None or (mask.size, bytes(mask)) == tofu_key:
            missing.append(char)
    return "".join(missing)


def checks(config: Config) -> list[Check]:
    out: list[Check] = []
    preferred = ""
    try:
        settings = load_settings(config.data_dir)
        preferred = settings.font
        out.append(Check("kiosk settings", True,
                         f"{settings_path(config.data_dir)}: " + (
                             "admin PIN set" if settings.admin_pin_hash else
                             "no admin PIN (the admin screen stays locked)")))
        if not settings.admin_pin_hash:
            out.append(Check("kiosk admin PIN", None, "not set",
                             "juwu kiosk --set-pin"))
    except SettingsError as e:
        out.append(Check("kiosk settings", False, str(e),
                         "fix or remove that key (docs/kiosk.md, \"Settings\")"))
    font = find_ui_font(preferred)
    if font is None:
        out.append(Check("kiosk font", False, "no Simplified-Chinese font found",
                         f"apt-get install {UI_FONT_PACKAGE}"))
        return out
    from PIL import ImageFont

    family = " ".join(ImageFont.truetype(str(font), 16).getname())
    missing = missing_glyphs(str(font))
    if missing:
        out.append(Check("kiosk font", False, f"{font} ({family}) cannot draw {missing}",
                         f"apt-get install {UI_FONT_PACKAGE}, or set font in kiosk.toml"))
    elif " JP" in family or "Japanese" in family:
        out.append(Check("kiosk font", None,
                         f"{font} opens its Japanese face ({family}): some characters "
                         "take Japanese shapes", f"apt-get install {UI_FONT_PACKAGE}"))
    else:
        out.append(Check("kiosk font", True, f"{font} ({family}) draws Simplified Chinese"))
    return out


__all__ = ["checks", "missing_glyphs"]
