"""The search benchmark still runs (tiny counts); its figures come from bench/, not here."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import search_bench


def test_search_bench_runs_and_prints_its_figures(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert search_bench.main(["--count", "300", "--batch", "100", "--repeat", "1",
                              "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "machine:" in out and "load: 300 disclosures" in out
    for label in ("1 char", "2 chars", "4 chars", "initials"):
        assert label in out
    assert "worst p95" in out
