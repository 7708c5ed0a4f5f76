"""`juwu demo`'s own guarantees that are quick to check: it says what to do without a
display, and stopping it leaves no process behind (the full pipeline runs in `./dev demo`)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from content.cli import EXIT_USAGE, main
from content.demo_pipeline import Processes, has_display, write_config

GRANDCHILD = """
import subprocess, sys, time
p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open(sys.argv[1], "w").write(str(p.pid))
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_without_a_display_it_says_so_and_offers_headless(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not has_display()
    assert main(["--data-dir", str(tmp_path), "demo"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "no display" in err and "juwu demo --headless" in err
    assert not (tmp_path / "demo").exists()  # nothing started, nothing written


def test_stop_all_ends_children_and_their_process_groups(tmp_path: Path) -> None:
    procs = Processes([sys.executable, "-c", GRANDCHILD], dict(os.environ), tmp_path)
    pidfile = tmp_path / "grandchild.pid"
    child = procs.start("child", [str(pidfile)])
    deadline = time.monotonic() + 20
    while not (pidfile.exists() and pidfile.read_text()):  # start-up, bounded
        assert time.monotonic() < deadline
        time.sleep(0.02)
    grandchild = int(pidfile.read_text())
    assert os.getpgid(child.proc.pid) == child.proc.pid != os.getpgid(0)  # own group
    procs.stop_all()
    assert child.proc.returncode == -signal.SIGTERM
    deadline = time.monotonic() + 10
    while _alive(grandchild):  # reparented to init, which reaps it
        assert time.monotonic() < deadline, "the grandchild outlived the demo"
        time.sleep(0.02)
    assert procs.children == []


def test_config_is_one_file_every_process_reads(tmp_path: Path) -> None:
    from content.config import load_config

    path = tmp_path / "juwu.toml"
    write_config(path, device_dir=tmp_path / "dev ice", hub_dir=tmp_path / "hub",
                 hub_port=8471, trusted_root=tmp_path / "keys" / "root.json", token="t",
                 token_sha256="d", board_ports={"hall": "/tmp/x", "gate": "socket://127.0.0.1:9"})
    config = load_config(str(path), environ={})
    assert config.data_dir == tmp_path / "dev ice"
    assert config.sync.hub_url == "http://127.0.0.1:8471" and config.hub.host == "127.0.0.1"
    assert [(b.name, b.protocol, b.width, b.height) for b in config.boards] == [
        ("hall", "onbon-bx5e", 128, 32), ("gate", "alpha", 96, 16)]
