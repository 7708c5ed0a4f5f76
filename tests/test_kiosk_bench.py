"""bench/kiosk_bench.py runs end to end with small counts and prints every figure."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import kiosk_bench


def test_kiosk_bench_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kiosk_bench.main(["--count", "50", "--taps", "60", "--starts", "1",
                             "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "machine: " in out and "GL renderer" in out
    assert "empty Kivy app" in out and "warm ratio " in out and "cold ratio " in out
    assert "tap → next screen drawn" in out and "keypress → search results drawn" in out
    assert "start (home only)" in out and "growth from start" in out
    assert kiosk_bench.pct([1.0, 2.0, 3.0, 4.0], 95) == 4.0
