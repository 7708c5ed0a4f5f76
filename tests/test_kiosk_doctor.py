"""`juwu doctor`'s kiosk checks: settings, and a font that draws Simplified Chinese."""

from __future__ import annotations

from pathlib import Path

import kivy

from content.config import load_config
from content.doctor import Check
from content.fonts import find_ui_font
from kiosk.doctor import SAMPLE, checks, missing_glyphs
from kiosk.settings import KioskSettings, save_settings

ROBOTO = Path(kivy.__file__).parent / "data" / "fonts" / "Roboto-Regular.ttf"  # Latin only


def kiosk_checks(data_dir: Path) -> dict[str, Check]:
    config = load_config(environ={"JUWU_PATHS__DATA_DIR": str(data_dir)})
    return {c.name: c for c in checks(config)}


def test_wenquanyi_draws_every_sample_character() -> None:
    font = find_ui_font()
    assert font is not None, "./dev setup installs fonts-wqy-microhei"
    assert missing_glyphs(str(font)) == ""


def test_a_latin_font_is_reported_with_the_characters_it_cannot_draw(tmp_path: Path) -> None:
    assert missing_glyphs(str(ROBOTO)) == SAMPLE
    save_settings(tmp_path, KioskSettings(font=str(ROBOTO)))
    font = kiosk_checks(tmp_path)["kiosk font"]
    assert font.ok is False
    assert "居务公开" in font.detail and "fonts-wqy-microhei" in font.fix


def test_healthy_kiosk_and_the_missing_pin_warning(tmp_path: Path) -> None:
    found = kiosk_checks(tmp_path)
    assert found["kiosk font"].ok is True
    assert "Simplified" in found["kiosk font"].detail
    assert found["kiosk admin PIN"].ok is None
    save_settings(tmp_path, KioskSettings().with_pin("2468"))
    found = kiosk_checks(tmp_path)
    assert "kiosk admin PIN" not in found
    assert "admin PIN set" in found["kiosk settings"].detail


def test_broken_settings_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "kiosk.toml").write_text("idle_timeout_s = 'soon'\n", encoding="utf-8")
    found = kiosk_checks(tmp_path)
    assert found["kiosk settings"].ok is False
    assert "idle_timeout_s" in found["kiosk settings"].detail
    assert found["kiosk font"].ok is True  # the other checks still run
