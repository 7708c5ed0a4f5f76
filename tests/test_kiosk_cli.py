"""`juwu kiosk` from the command line: screenshots mode in its own process, and --set-pin."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from content.config import Config
from content.db import Cache
from tests.test_watchdog import NotifySocket


def test_screenshots_mode_portrait_large_text(loaded: Cache, config: Config,
                                              tmp_path: Path) -> None:
    loaded.close()
    out = tmp_path / "shots"
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "content.cli", "--data-dir", str(config.data_dir), "kiosk",
         "--screenshots", str(out), "--portrait", "--large-text"],
        env=env, capture_output=True, text=True, timeout=80)
    assert run.returncode == 0, run.stderr[-3000:]
    names = sorted(p.name for p in out.glob("*.png"))
    assert names[0] == "01-home.png" and "04-detail-finance.png" in names
    assert len(names) >= 12
    from PIL import Image

    with Image.open(out / "01-home.png") as im:
        assert im.size == (1080, 1920)
    assert "Traceback" not in run.stderr.replace("libmtdev", "")  # no screen failed


def test_set_pin_stores_a_hash(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    from content.cli import main
    from kiosk.settings import check_pin, load_settings

    answers = iter(["97531", "97531"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["--data-dir", str(config.data_dir), "kiosk", "--set-pin"]) == 0
    stored = load_settings(config.data_dir).admin_pin_hash
    assert check_pin("97531", stored)


def test_kiosk_is_a_juwu_subcommand() -> None:
    from content.cli import build_parser

    args = build_parser().parse_args(["kiosk", "--windowed"])
    assert args.windowed and args.screenshots is None


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_fullscreen_kiosk_stops_cleanly_on_a_signal(loaded: Cache, config: Config,
                                                     tmp_path: Path, signum: int) -> None:
    """Residents cannot close the kiosk, but `systemctl stop` (SIGTERM) and Ctrl-C (SIGINT)
    can: exit 0 at once, not SIGKILL after TimeoutStopSec. Kiosk mode (not --windowed),
    with the periodic sync running beside it (the hub is unreachable)."""
    loaded.close()
    sockets = Path(tempfile.mkdtemp(prefix="juwu-sd-"))  # AF_UNIX paths are short
    ns = NotifySocket(sockets / "notify")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("JUWU_") and k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
    env.update({"SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1",
                "JUWU_SYNC__HUB_URL": "http://127.0.0.1:9", **ns.env})
    log = tmp_path / "kiosk.log"
    with log.open("w") as err:
        kiosk = subprocess.Popen(
            [sys.executable, "-m", "content.cli", "--data-dir", str(config.data_dir), "kiosk"],
            env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        ns.wait_for("READY=1", 60)  # after the first frame
        kiosk.send_signal(signum)
        assert kiosk.wait(10) == 0, log.read_text()  # before: SIGTERM ignored, SIGINT 130
        ns.wait_for("STOPPING=1", 1)
    finally:
        if kiosk.poll() is None:
            kiosk.kill()
            kiosk.wait(10)
        ns.sock.close()
        shutil.rmtree(sockets)
    text = log.read_text()
    assert f"kiosk: {signal.Signals(signum).name} received, stopping" in text
    assert "Leaving application in progress" in text and "Traceback" not in text, text
