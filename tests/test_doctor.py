from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from content.config import Config
from content.doctor import Check, render, run_checks
from tests.sync_support import device_config, running_hub
from tests.test_cli import run


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_healthy_device_against_a_real_hub(tmp_path: Path) -> None:
    with running_hub(tmp_path) as hub:
        config = device_config(tmp_path, hub)
        checks = by_name(run_checks(config, extra=[]))
    for name in ("configuration", "data directory", "cache", "schema", "trust anchor", "hub",
                 "clock"):
        assert checks[name].ok is True, checks[name]


def test_problems_are_named_with_a_fix(tmp_path: Path, config: Config) -> None:
    config.data_dir.mkdir(parents=True)
    with sqlite3.connect(config.database_path) as conn:
        conn.execute("CREATE TABLE other (x)")

    def broken(_: Config) -> list[Check]:
        raise RuntimeError("boom")

    checks = run_checks(config, extra=[broken])
    named = by_name(checks)
    assert named["cache"].ok is False and "another program" in named["cache"].detail
    assert named["sync"].ok is None  # not configured: a warning, not a failure
    assert any("the check itself failed" in c.detail for c in checks)
    text = render(checks)
    assert "✗ cache" in text and "→" in text and "problem(s)" in text


def test_unreachable_hub_and_missing_root(tmp_path: Path) -> None:
    from content.config import load_config

    config = load_config(environ={"JUWU_PATHS__DATA_DIR": str(tmp_path),
                                  "JUWU_SYNC__HUB_URL": "http://127.0.0.1:9",
                                  "JUWU_SYNC__CONNECT_TIMEOUT_S": "1"})
    checks = by_name(run_checks(config, extra=[]))
    assert checks["trust anchor"].ok is False and "root.json" in checks["trust anchor"].fix
    assert checks["hub"].ok is False and "unreachable" in checks["hub"].detail


def test_doctor_command(tmp_path: Path) -> None:
    result = run(tmp_path, "doctor", "--json")
    names = {c["name"] for c in json.loads(result.stdout)}
    assert {"configuration", "cache", "schema", "sync", "board font", "kiosk font"} <= names
