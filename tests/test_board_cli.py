"""`juwu board …` as an operator runs it: real processes, a simulator on a real pty."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from PIL import Image

from content.config import BoardConfig
from display_driver.driver import Board
from tests.test_cli import JUWU, run


def test_board_help(tmp_path: Path) -> None:
    top = run(tmp_path, "board", "--help")
    assert top.returncode == 0
    for action in ("preview", "frame", "ping", "run", "status", "simulate"):
        assert action in top.stdout
    sub = run(tmp_path, "board", "simulate", "--help")
    assert sub.returncode == 0 and "--listen pty|PORT" in sub.stdout


def test_preview_writes_what_passers_by_see(tmp_path: Path) -> None:
    out = tmp_path / "p" / "hall.png"
    res = run(tmp_path, "board", "preview", "紧急通知：明日9:00-12:00停水，请提前储水",
              "--size", "128x32", "--png", str(out), "--scale", "4")
    assert res.returncode == 0, res.stderr
    assert "2 pages" in res.stdout and (tmp_path / "p" / "hall-2.png").is_file()
    assert Image.open(out).size == (512, 128)
    bad = run(tmp_path, "board", "preview", "x", "--board", "nope", "--png", str(out))
    assert bad.returncode == 2 and "no board named 'nope'" in bad.stderr
    odd = run(tmp_path, "board", "preview", "x", "--size", "12by3", "--png", str(out))
    assert odd.returncode == 2 and "not WIDTHxHEIGHT" in odd.stderr


def test_frame_prints_the_encoded_bytes(tmp_path: Path) -> None:
    res = run(tmp_path, "board", "frame", "--protocol", "onbon-bx5k", "--size", "64x16",
              "--address", "3", "--json", "功播")
    assert res.returncode == 0, res.stderr
    (frame,) = json.loads(res.stdout)["frames"]
    cfg = BoardConfig(name="x", protocol="onbon-bx5k", port="loop://", width=64, height=16,
                      address=3)
    assert frame == Board(cfg).prepare("功播")[0][0].hex(" ")
    assert "b9 a6 01" in frame  # 功 = B9 A6, escaped on the wire
    emoji = run(tmp_path, "board", "frame", "--protocol", "onbon-bx5k", "--size", "64x16", "😀")
    assert emoji.returncode == 0 and "not in GB2312" in emoji.stderr


def test_simulate_ping_run_status_against_a_virtual_board(tmp_path: Path) -> None:
    link, pngs = tmp_path / "ttyVIRT", tmp_path / "png"
    sim = subprocess.Popen(
        [JUWU, "--data-dir", str(tmp_path), "board", "simulate", "--protocol", "onbon-bx5e",
         "--size", "128x32", "--listen", "pty", "--link", str(link), "--png-dir", str(pngs)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert sim.stdout is not None
        first = sim.stdout.readline()
        assert "simulating onbon-bx5e 128x32" in first and str(link) in first
        config = tmp_path / "juwu.toml"
        config.write_text(
            f'[community]\nname = "幸福里社区"\n[[boards]]\nname = "hall"\n'
            f'protocol = "onbon-bx5e"\nport = "{link}"\nwidth = 128\nheight = 32\n',
            encoding="utf-8")
        ping = run(tmp_path, "--config", str(config), "board", "ping", "--board", "hall")
        assert ping.returncode == 0 and "hall: alive (ack A0 00 from address 1" in ping.stdout
        once = run(tmp_path, "--config", str(config), "board", "run", "--once")
        assert once.returncode == 0, once.stderr
        assert "hall: showing fallback" in once.stderr
        assert sim.stdout.readline().startswith("display changed: 1 page")
        assert (pngs / "latest.png").is_file()
        status = run(tmp_path, "--config", str(config), "board", "status", "--json")
        (hall,) = json.loads(status.stdout)
        assert hall["state"] == "ok" and hall["showing"] == "fallback"
        assert hall["showing_since"] is None  # the run ended: its log row is closed
        assert hall["last_ok_at"] is not None

        # a long-running driver stops cleanly on SIGTERM
        driver = subprocess.Popen([JUWU, "--data-dir", str(tmp_path), "--config",
                                   str(config), "board", "run"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert driver.stderr is not None
        deadline = time.monotonic() + 30
        line = ""
        while "hall: showing" not in line and time.monotonic() < deadline:
            line = driver.stderr.readline()
        assert "hall: showing fallback" in line
        driver.send_signal(signal.SIGTERM)
        assert driver.wait(30) == 0
        text = run(tmp_path, "--config", str(config), "board", "status")
        assert text.stdout.startswith("hall: ok")
    finally:
        sim.send_signal(signal.SIGTERM)
        out, _ = sim.communicate(timeout=30)
    assert sim.returncode == 0 and "stopped after" in out
    unplugged = run(tmp_path, "--config", str(config), "board", "ping", "--board", "hall")
    assert unplugged.returncode == 1 and "no such device" in unplugged.stderr
    assert "Traceback" not in unplugged.stderr


def test_run_without_boards_says_what_to_do(tmp_path: Path) -> None:
    res = run(tmp_path, "board", "run", "--once")
    assert res.returncode == 2 and "no boards are configured" in res.stderr


def test_simulate_faults_from_options_and_stdin(tmp_path: Path) -> None:
    link = tmp_path / "ttyVIRT"
    sim = subprocess.Popen(
        [JUWU, "--data-dir", str(tmp_path), "board", "simulate", "--protocol", "onbon-bx5e",
         "--size", "64x16", "--link", str(link), "--corrupt-crc", "--noise", "00 ff"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    config = tmp_path / "juwu.toml"
    config.write_text(f'[[boards]]\nname = "hall"\nprotocol = "onbon-bx5e"\nport = "{link}"\n'
                      "width = 64\nheight = 16\ntimeout_s = 0.3\n", encoding="utf-8")

    def command(line: str) -> str:
        assert sim.stdin is not None and sim.stdout is not None
        sim.stdin.write(line + "\n")
        sim.stdin.flush()
        return sim.stdout.readline().strip()

    def ping() -> subprocess.CompletedProcess[str]:
        return run(tmp_path, "--config", str(config), "board", "ping", "--board", "hall")

    try:
        assert sim.stdout is not None
        assert "simulating onbon-bx5e 64x16" in sim.stdout.readline()
        assert sim.stdout.readline().strip() == (
            "faults: replies with a bad CRC, 2 bytes of noise before each reply")
        garbled = ping()
        assert garbled.returncode == 1 and "garbled reply: CRC mismatch" in garbled.stderr
        assert command("ok") == "faults: none"
        assert ping().returncode == 0
        assert command("silent") == "faults: never answers"
        silent = ping()
        assert silent.returncode == 1 and "did not answer within 0.3 s" in silent.stderr
        assert command("unplug") == "faults: never answers, unplugged"
        gone = ping()
        assert gone.returncode == 1 and "no such device" in gone.stderr
        assert command("plug") == "faults: never answers"
        assert command("ok") == "faults: none"
        assert ping().returncode == 0
        for res in (garbled, silent, gone):
            assert "Traceback" not in res.stderr
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.communicate(timeout=30)
    assert sim.returncode == 0
