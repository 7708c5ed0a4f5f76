from __future__ import annotations

import datetime as dt
import errno
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from tuf.api.metadata import Metadata, Root
from tuf.api.serialization.json import JSONSerializer

from content.config import Config, load_config
from content.db import APPLICATION_ID, SCHEMA_HEAD, Cache, make_engine, open_cache, schema_revision
from content.doctor import Check, data_dir_fix, render, run_checks
from content.migrate import upgrade
from content.sync.keys import KeyLayout, init_keys, load_signer
from tests.sync_support import device_config, running_hub
from tests.test_cli import JUWU, run


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_healthy_device_against_a_real_hub(tmp_path: Path) -> None:
    with running_hub(tmp_path) as hub:
        config = device_config(tmp_path, hub)
        open_cache(config.database_path).close()  # `juwu init`
        checks = by_name(run_checks(config, extra=[]))
    for name in ("configuration", "data directory", "cache", "schema", "trust anchor",
                 "root expiry", "hub", "clock"):
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
    assert run(tmp_path, "init").returncode == 0
    result = run(tmp_path, "doctor", "--json")
    names = {c["name"] for c in json.loads(result.stdout)}
    assert {"configuration", "cache", "schema", "sync", "board font", "kiosk font"} <= names


def test_doctor_neither_creates_nor_migrates_the_cache(config: Config) -> None:
    path = config.database_path
    checks = by_name(run_checks(config, extra=[]))
    assert checks["cache"].ok is None and "does not exist yet" in checks["cache"].detail
    assert "juwu init" in checks["cache"].fix
    assert not path.exists()
    engine = make_engine(path)  # a cache an older juwu made: schema 0003
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
    upgrade(engine, "0003")
    engine.dispose()
    checks = by_name(run_checks(config, extra=[]))
    assert checks["cache"].ok is True
    schema = checks["schema"]
    assert schema.ok is None  # a warning: the next `juwu init` or service start migrates
    assert schema.detail == f"at 0003, this juwu expects {SCHEMA_HEAD}"
    assert schema.fix == "run `juwu init` (or start the service) to migrate"
    engine = make_engine(path)
    assert schema_revision(engine) == "0003"  # still: doctor only looked
    engine.dispose()


def test_doctor_names_a_cache_from_a_newer_juwu(cache: Cache) -> None:
    cache.close()
    with sqlite3.connect(cache.path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    result = run(cache.path.parent, "doctor")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert (f"✗ schema: at 0099, which this juwu (expecting {SCHEMA_HEAD}) does not know: the "
            "cache was written by a newer version") in result.stdout
    assert "→ upgrade juwu, or restore the backup made before the upgrade" in result.stdout
    assert "✓ cache:" in result.stdout


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM,
                                  errno.EROFS, errno.EIO])
def test_data_dir_fix_depends_on_the_cause(code: int) -> None:
    fix = data_dir_fix(Path("/var/lib/juwu"), OSError(code, os.strerror(code)))
    expected = {errno.ENOSPC: "free disk space", errno.EDQUOT: "free disk space",
                errno.EACCES: "chown -R juwu:juwu /var/lib/juwu",
                errno.EPERM: "chown -R juwu:juwu /var/lib/juwu",
                errno.EROFS: "read-only filesystem", errno.EIO: "dmesg"}[code]
    assert expected in fix
    assert ("writable" in fix) == (code in (errno.EACCES, errno.EPERM))


def _mount_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                            "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True,
                           check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _mount_works(), reason="cannot mount a tmpfs in a user namespace")
@pytest.mark.parametrize(("options", "fill", "error", "fix"), [
    ("size=64k", True, "No space left on device", "free disk space"),
    ("ro,size=64k", False, "Read-only file system", "read-only filesystem"),
])
def test_full_or_read_only_data_dir(tmp_path: Path, options: str, fill: bool, error: str,
                                    fix: str) -> None:
    """`juwu doctor` on a real tiny tmpfs (own user and mount namespace: nothing to clean
    up): the fix matches the cause and no probe file is left behind."""
    mount, out, listing = tmp_path / "data", tmp_path / "doctor.json", tmp_path / "ls"
    mount.mkdir()
    script = (f'mount -t tmpfs -o {options} tmpfs "$1" || exit 99\n'
              + ('head -c 1048576 /dev/zero > "$1/fill" 2>/dev/null\n' if fill else "")
              + '"$2" --data-dir "$1" doctor --json > "$3"\nls -A "$1" > "$4"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUWU_")}
    done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                           script, "sh", str(mount), JUWU, str(out), str(listing)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    checks = {c["name"]: c for c in json.loads(out.read_text(encoding="utf-8"))}
    data_dir = checks["data directory"]
    assert data_dir["ok"] is False and error in data_dir["detail"], data_dir
    assert fix in data_dir["fix"] and "writable" not in data_dir["fix"], data_dir
    assert ".doctor-write-test" not in listing.read_text(encoding="utf-8").split()
    assert "Traceback" not in done.stderr


def _device(tmp_path: Path, keys: KeyLayout) -> Config:
    return load_config(environ={"JUWU_PATHS__DATA_DIR": str(tmp_path / "device"),
                                "JUWU_SYNC__HUB_URL": "http://127.0.0.1:9",
                                "JUWU_SYNC__TRUSTED_ROOT": str(keys.root_json),
                                "JUWU_SYNC__CONNECT_TIMEOUT_S": "1"})


def _days_ago(days: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=days)


def test_root_expiry_warns_60_days_ahead_and_fails_once_expired(tmp_path: Path) -> None:
    soon = init_keys(tmp_path / "soon", now=_days_ago(365 - 30))
    expires = Metadata[Root].from_bytes(soon.root_json.read_bytes()).signed.expires
    check = by_name(run_checks(_device(tmp_path, soon), extra=[]))["root expiry"]
    assert check.ok is None, check
    assert f"root.json version 1 ({soon.root_json}) expires on {expires:%Y-%m-%d}" in check.detail
    assert 'docs/keys.md, "Re-signing root"' in check.fix
    lapsed = init_keys(tmp_path / "lapsed", now=_days_ago(400))
    expired = Metadata[Root].from_bytes(lapsed.root_json.read_bytes()).signed.expires
    check = by_name(run_checks(_device(tmp_path, lapsed), extra=[]))["root expiry"]
    assert check.ok is False and f"expired on {expired:%Y-%m-%d}" in check.detail, check
    assert "Re-signing root" in check.fix
    fresh = init_keys(tmp_path / "fresh")
    check = by_name(run_checks(_device(tmp_path, fresh), extra=[]))["root expiry"]
    assert check.ok is True, check


def _rotate(keys: KeyLayout, metadata_dir: Path, expires: dt.datetime) -> Path:
    """Root version 2, signed by two custodians, stored as the TUF client keeps it after
    walking a rotation: root_history/2.root.json, with root.json a symlink to it."""
    md = Metadata[Root].from_bytes(keys.root_json.read_bytes())
    md.signed.version = 2
    md.signed.expires = expires.replace(microsecond=0)
    md.signatures.clear()
    for i in (1, 2):
        md.sign(load_signer(keys.root_key(i)), append=True)
    history = metadata_dir / "root_history"
    history.mkdir(parents=True, exist_ok=True)
    (history / "2.root.json").write_bytes(md.to_bytes(JSONSerializer(compact=False)))
    current = metadata_dir / "root.json"
    current.unlink(missing_ok=True)
    current.symlink_to(Path("root_history") / "2.root.json")
    return current


def test_root_expiry_judges_the_devices_current_root(tmp_path: Path) -> None:
    keys = init_keys(tmp_path / "keys", now=_days_ago(365 - 30))  # installed: 30 days left
    config = _device(tmp_path, keys)
    metadata_dir = config.data_dir / "tuf" / "metadata"
    current = _rotate(keys, metadata_dir, _days_ago(-300))
    check = by_name(run_checks(config, extra=[]))["root expiry"]
    assert check.ok is True and f"root.json version 2 ({current})" in check.detail, check
    _rotate(keys, metadata_dir, _days_ago(-10))
    check = by_name(run_checks(config, extra=[]))["root expiry"]
    assert check.ok is None and "root.json version 2" in check.detail, check
