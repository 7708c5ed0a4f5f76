"""Kiosk pieces that need no window: settings and PIN lockout, texts, vocabulary, data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from content.config import Config
from content.db import Cache
from kiosk.data import KioskData, Vocabulary
from kiosk.i18n import EN, ZH, texts
from kiosk.settings import (
    KioskSettings,
    PinGate,
    SettingsError,
    check_pin,
    hash_pin,
    load_settings,
    save_settings,
)

NOW = dt.datetime(2026, 6, 15, 10, 0)


def test_every_text_has_an_english_version() -> None:
    assert set(ZH) == set(EN)
    assert texts("en")["nav.home"] == "Home"
    assert texts("fr")["nav.home"] == "首页"
    assert texts("en")["no.such.key"] == "no.such.key"


def test_settings_defaults_roundtrip_and_errors(tmp_path: Path) -> None:
    assert load_settings(tmp_path) == KioskSettings()
    saved = KioskSettings(idle_timeout_s=45, locale="en").with_pin("13579")
    path = save_settings(tmp_path, saved)
    assert path.stat().st_mode & 0o077 == 0  # the PIN hash is readable by the owner only
    assert "13579" not in path.read_text()
    assert load_settings(tmp_path) == saved
    path.write_text("idle_timeout_s = 'soon'\n")
    with pytest.raises(SettingsError, match="idle_timeout_s"):
        load_settings(tmp_path)
    path.write_text("colour = 1\n")
    with pytest.raises(SettingsError, match="unknown key colour"):
        load_settings(tmp_path)
    path.write_text("screensaver_after_s = 5\n")
    with pytest.raises(SettingsError, match=r"screensaver_after_s: 0 \(never\) or at least 30"):
        load_settings(tmp_path)
    path.write_text("screensaver_after_s = 0\n")
    assert load_settings(tmp_path).screensaver_after_s == 0


def test_pin_is_hashed_and_checked() -> None:
    stored = hash_pin("2468")
    assert stored.startswith("pbkdf2_sha256$") and "2468" not in stored
    assert check_pin("2468", stored) and not check_pin("2469", stored)
    assert hash_pin("2468") != stored  # salted
    assert not check_pin("2468", "garbage")
    with pytest.raises(SettingsError):
        hash_pin("12a4")


def test_lockout_grows_after_wrong_pins() -> None:
    gate = PinGate(hash_pin("2468"))
    assert not gate.try_pin("0000", 0) and not gate.try_pin("0000", 1)
    assert gate.wait_s(1) == 0
    assert not gate.try_pin("0000", 2)
    assert gate.wait_s(2) == 30
    assert not gate.try_pin("2468", 10)  # locked: even the right PIN is refused
    assert not gate.try_pin("0000", 40)
    assert gate.wait_s(40) == 60  # doubled
    assert gate.try_pin("2468", 200)
    assert gate.failures == 0
    assert not PinGate("").try_pin("2468", 0)  # no PIN set: no admin


def test_vocabulary_ranks_community_words_first(loaded: Cache, config: Config) -> None:
    vocab = KioskData(loaded, config, now=lambda: NOW).vocabulary()
    assert vocab.candidates("caiwu")[0] == "财务"
    assert "财" in vocab.candidates("cai")
    assert vocab.candidates("") == []
    assert Vocabulary().candidates("a") == []


def test_views_hold_plain_values(loaded: Cache, config: Config) -> None:
    data = KioskData(loaded, config, now=lambda: NOW)
    home = data.home()
    assert home.community == "幸福里社区"
    assert [t.current for t in home.tiles if t.value == "finance"] == [1]
    detail = data.detail("cw-2026-q1")
    assert detail is not None and detail.finance is not None
    assert detail.finance.closing == "67,765.50"
    assert [s[0] for s in detail.sign_offs] == [
        "经办人", "居委会主任", "党组织书记", "民主监督小组"]
    assert data.detail("nope") is None
    assert data.years() == [2026, 2025]
    assert len(data.browse(period="all")) == 6
    assert [r.title for r in data.browse(category="party", period="year:2026")] == [
        "低保评议结果公示"]
    ticket = data.ticket("q20260612 002")
    assert ticket is not None and ticket.state == "open"
    assert data.admin().outbox == {"feedback.acked": 2, "survey.acked": 10}


def test_qr_payload_and_matrix_match_qrcodes_own() -> None:
    import qrcode

    from kiosk.qr import QUIET_ZONE, luminance_bytes, qr_matrix, tel_payload

    assert tel_payload("010-6512 3456") == "tel:01065123456"
    assert tel_payload("0571-86526379（24小时）") == "tel:057186526379"
    assert tel_payload("+86 10 6512 3456") == "tel:+861065123456"
    assert tel_payload("12345、67890") == "tel:12345"
    assert tel_payload("无") == ""
    payload = "tel:057186526379"
    reference = qrcode.QRCode(border=QUIET_ZONE)  # qrcode's defaults apart from M level
    reference.error_correction = qrcode.constants.ERROR_CORRECT_M
    reference.add_data(payload)
    reference.make(fit=True)
    matrix = qr_matrix(payload)
    assert matrix == [list(r) for r in reference.get_matrix()]
    n = len(matrix)
    assert n == 4 * 2 + 21 + 4 * (reference.version - 1)  # version 1 is 21 modules
    assert all(not any(row) for row in matrix[:QUIET_ZONE])  # light quiet zone
    assert matrix[QUIET_ZONE][QUIET_ZONE:QUIET_ZONE + 7] == [True] * 7  # finder pattern
    data = luminance_bytes(matrix)
    assert len(data) == n * n and data[-n * QUIET_ZONE:] == b"\xff" * n * QUIET_ZONE
    assert qr_matrix("tel:01065123456") != matrix
