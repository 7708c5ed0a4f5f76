"""The `juwu` command as a user runs it: a real process, a real cache file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from content.db import SCHEMA_HEAD
from content.export import write_content_dir
from tests.conftest import mini

JUWU = str(Path(sys.executable).parent / "juwu")


def run(data_dir: Path, *args: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("JUWU_")}
    full_env.update(env or {})
    return subprocess.run([JUWU, "--data-dir", str(data_dir), *args], capture_output=True,
                          text=True, env=full_env, timeout=120, check=False)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "content"
    write_content_dir(mini(), directory)
    return directory


@pytest.fixture
def data(tmp_path: Path, content_dir: Path) -> Path:
    data = tmp_path / "data"
    result = run(data, "import", str(content_dir))
    assert result.returncode == 0, result.stderr
    assert "created: 2 announcement, 1 community, 6 disclosure" in result.stdout
    return data


def test_own_plugins_are_the_entry_points_pyproject_declares() -> None:
    """content.cli names its own packages' subcommands (to skip importlib.metadata at
    start-up); they must be exactly the installed juwu.commands entry points."""
    from importlib.metadata import distribution

    from content.cli import OWN_PLUGINS

    declared = {ep.name: ep.value for ep in distribution("juwu").entry_points
                if ep.group == "juwu.commands"}
    assert declared == OWN_PLUGINS


def test_every_subcommand_has_help(tmp_path: Path) -> None:
    top = run(tmp_path, "--help")
    assert top.returncode == 0
    for command in ("init", "import", "demo-data", "demo", "search", "show", "stats"):
        assert command in top.stdout
        result = run(tmp_path, command, "--help")
        assert result.returncode == 0 and "usage: juwu" in result.stdout


def test_init_reports_the_cache(tmp_path: Path) -> None:
    result = run(tmp_path, "init", "--json")
    assert result.returncode == 0
    info = json.loads(result.stdout)
    assert info["database"] == str(tmp_path / "cache.sqlite3")
    assert info["schema_revision"] == SCHEMA_HEAD


def test_search_text_and_json(data: Path) -> None:
    text = run(data, "search", "电梯", "--today", "2026-06-15")
    assert text.returncode == 0
    assert "共 3 条" in text.stdout and "加装【电梯】意见征询结果公示" in text.stdout
    js = run(data, "search", "cwgk", "--json", "--today", "2026-06-15")
    hits = json.loads(js.stdout)["hits"]
    assert [h["uid"] for h in hits] == ["cw-2026-q1"]
    none = run(data, "search", "火箭发射")
    assert none.returncode == 3 and "共 0 条" in none.stdout


def test_search_errors_are_clear(data: Path) -> None:
    empty = run(data, "search", "，")
    assert empty.returncode == 2 and "请输入要搜索的文字或拼音" in empty.stderr
    long = run(data, "search", "字" * 10_000)
    assert long.returncode == 2 and "Query too long" in long.stderr
    assert "Traceback" not in long.stderr + empty.stderr


def test_show_disclosure_finance_table_and_service(data: Path) -> None:
    shown = run(data, "show", "cw-2026-q1")
    assert shown.returncode == 0
    assert "收入合计 85,000.00 元" in shown.stdout
    assert "期末余额 67,765.50 元" in shown.stdout
    assert "民主监督小组 王建国" in shown.stdout
    js = json.loads(run(data, "show", "cw-2026-q1", "--json").stdout)
    assert js["finance"]["closing_balance_fen"] == 6_776_550
    svc = run(data, "show", "svc-repair")
    assert "老王家电维修（维修服务）" in svc.stdout
    missing = run(data, "show", "no-such-thing")
    assert missing.returncode == 3 and "nothing with uid" in missing.stderr


def test_stats(data: Path) -> None:
    js = json.loads(run(data, "stats", "--json", "--today", "2026-06-15").stdout)
    assert js["community"] == "幸福里社区"
    assert js["disclosures"]["total"] == 6
    assert js["feedback"] == {"total": 2, "open": 1, "overdue": 0}
    (survey,) = js["surveys"]
    assert survey["percent"] == 80.0 and survey["below_threshold"] is True
    text = run(data, "stats", "--today", "2026-06-15").stdout
    assert "低于 90%，须整改" in text


def test_import_check_and_bad_content(tmp_path: Path, content_dir: Path) -> None:
    data = tmp_path / "d2"
    checked = run(data, "import", str(content_dir), "--check")
    assert checked.returncode == 0 and "checked: created" in checked.stdout
    stats = json.loads(run(data, "stats", "--json").stdout)
    assert stats["disclosures"]["total"] == 0  # --check wrote nothing
    (content_dir / "disclosures" / "bad.toml").write_text(
        '[[disclosure]]\nuid = "x"\ncategory = "nope"\n', encoding="utf-8")
    bad = run(data, "import", str(content_dir))
    assert bad.returncode == 1
    assert "nothing was loaded" in bad.stderr
    assert "disclosures/bad.toml: disclosure[0] (x): category: 'nope' is not one of" in bad.stderr


def test_bad_config_and_foreign_database(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[search]\ndefault_limit = 'x'\n", encoding="utf-8")
    result = run(tmp_path, "--config", str(cfg), "stats")
    assert result.returncode == 2 and "search.default_limit: expected int" in result.stderr
    (tmp_path / "cache.sqlite3").write_bytes(b"garbage" * 1000)
    result = run(tmp_path, "stats")
    assert result.returncode == 1 and "damaged or not a SQLite database" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_cache_from_a_newer_juwu_is_refused_without_a_traceback(tmp_path: Path) -> None:
    assert run(tmp_path, "init").returncode == 0
    with sqlite3.connect(tmp_path / "cache.sqlite3") as conn:  # a newer juwu migrated it
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    for command in ("stats", "init"):
        result = run(tmp_path, command)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        assert ("juwu: the cache schema is at revision 0099, which this juwu does not know: "
                "it was written by a newer version. Upgrade juwu or use another data "
                "directory.") in result.stderr
