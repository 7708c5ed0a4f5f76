"""Read-aloud (kiosk/speech.py): real processes speak, stop and are reaped; amounts in words."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.config import Config
from content.db import Cache
from kiosk.data import KioskData
from kiosk.settings import KioskSettings, SettingsError, load_settings, save_settings
from kiosk.speech import ESPEAK_ARGS, Speaker, cn_number, find_command, spoken_text, yuan_words

NOW = dt.datetime(2026, 6, 15, 10, 0)

# A stand-in engine: writes what it was given and its pid, then "speaks" for a minute.
LISTENER = """
import os, sys, time
out = sys.argv[1]
data = sys.stdin.buffer.read()
with open(out + ".tmp", "wb") as f:
    f.write(data)
os.replace(out + ".tmp", out)
with open(out + ".pid", "w") as f:
    f.write(str(os.getpid()))
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 60)
"""


def listener(tmp_path: Path, seconds: float = 60) -> tuple[tuple[str, ...], Path]:
    script = tmp_path / "listener.py"
    script.write_text(LISTENER, encoding="utf-8")
    out = tmp_path / "spoken.txt"
    return (sys.executable, str(script), str(out), str(seconds)), out


def wait_for(check: Callable[[], bool], timeout_s: float = 5) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def gone(pid: int) -> bool:
    """No such process any more (a zombie, not yet reaped, still counts as there)."""
    return not Path(f"/proc/{pid}").exists()


def test_find_command_auto_off_and_configured(tmp_path: Path) -> None:
    assert find_command("off") == ()
    assert find_command(["/no/such/tts", "-x"]) == ()
    assert find_command([sys.executable, "-c", "pass"]) == (sys.executable, "-c", "pass")
    fake = tmp_path / "espeak-ng"
    assert find_command((), which=lambda name: str(fake) if name == "espeak-ng" else None) == (
        str(fake), *ESPEAK_ARGS)
    assert find_command((), which=lambda name: None) == ()
    assert "cmn" in ESPEAK_ARGS and "--stdin" in ESPEAK_ARGS


def test_speaker_gives_the_text_on_stdin_and_stop_ends_it(tmp_path: Path) -> None:
    command, out = listener(tmp_path)
    speaker = Speaker(command)
    text = "居务公开。" * 40_000  # 600 kB: more than a pipe holds, yet speak() returns at once
    started = time.monotonic()
    speaker.speak(text)
    assert time.monotonic() - started < 1.0
    wait_for(lambda: out.exists() and Path(f"{out}.pid").exists())
    assert out.read_text(encoding="utf-8") == text
    pid = int(Path(f"{out}.pid").read_text())
    assert speaker.speaking() and speaker.pid == pid
    speaker.stop()
    assert not speaker.speaking()
    wait_for(lambda: gone(pid))


def test_a_new_text_stops_the_old_one_and_the_end_is_noticed(tmp_path: Path) -> None:
    command, out = listener(tmp_path)
    speaker = Speaker(command)
    speaker.speak("第一段")
    wait_for(lambda: Path(f"{out}.pid").exists())
    first = int(Path(f"{out}.pid").read_text())
    Path(f"{out}.pid").unlink()
    speaker.speak("第二段")
    wait_for(lambda: gone(first))
    wait_for(lambda: Path(f"{out}.pid").exists())
    assert out.read_text(encoding="utf-8") == "第二段"
    speaker.stop()
    (tmp_path / "short").mkdir()
    short, _ = listener(tmp_path / "short", seconds=0)
    quick = Speaker(short)
    quick.speak("好")
    wait_for(lambda: not quick.speaking())  # ended by itself


def test_stop_also_ends_what_a_shell_command_started(tmp_path: Path) -> None:
    pids = tmp_path / "child.pid"
    speaker = Speaker(("sh", "-c", f"sleep 60 & echo $! > {pids}; wait"))
    speaker.speak("x")
    wait_for(lambda: pids.exists() and pids.read_text().strip() != "")
    child = int(pids.read_text())
    speaker.stop()
    wait_for(lambda: gone(child) or _zombie(child))


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_no_engine_speaks_nothing(tmp_path: Path) -> None:
    speaker = Speaker(())
    assert not speaker.available
    speaker.speak("你好")
    assert not speaker.speaking() and speaker.pid is None
    speaker.stop()
    broken = Speaker((str(tmp_path / "missing-program"),))
    broken.speak("你好")  # logged, not raised: the screen stays
    assert not broken.speaking()


def test_spoken_text_is_title_text_and_totals_in_words(loaded: Cache, config: Config) -> None:
    view = KioskData(loaded, config, now=lambda: NOW).detail("cw-2026-q1")
    assert view is not None
    text = spoken_text(view)
    lines = text.split("\n")
    assert lines[0] == "2026年第一季度财务公开。"
    assert lines[1] == "财务公开，定期公开。"
    assert "本季度收支情况如下表。" in lines
    assert lines[-1] == "期末结余六万七千七百六十五元五角。"
    assert "本期收入合计八万五千元整。" in lines


@pytest.mark.parametrize(("n", "words"), [
    (0, "零"), (7, "七"), (10, "十"), (15, "十五"), (20, "二十"), (105, "一百零五"),
    (110, "一百一十"), (1005, "一千零五"), (1010, "一千零一十"), (10_000, "一万"),
    (100_010, "十万零一十"), (1_000_100, "一百万零一百"), (67_765, "六万七千七百六十五"),
    (100_000_005, "一亿零五"), (120_000_000, "一亿二千万"), (10**12, "一万亿"),
    (1_000_100_000_000, "一万零一亿"), (10**8 + 10**4, "一亿零一万"),
])
def test_cn_number(n: int, words: str) -> None:
    assert cn_number(n) == words


@pytest.mark.parametrize(("amount", "words"), [
    ("67,765.50", "六万七千七百六十五元五角"), ("85,000.00", "八万五千元整"),
    ("0.05", "五分"), ("-1.05", "负一元零五分"), ("10.10", "十元一角"), ("3.21", "三元二角一分"),
    ("n/a", "n/a"), ("1.234", "1.234"),
])
def test_yuan_words(amount: str, words: str) -> None:
    assert yuan_words(amount) == words


DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")}
UNIT = {"十": 10, "百": 100, "千": 1000}


def read_back(words: str) -> int:
    """The number the words say (a reader's reading, written independently of cn_number)."""
    total, section, digit = 0, 0, 0
    i = 0
    while i < len(words):
        c = words[i]
        if c in DIGIT:
            digit = DIGIT[c]
        elif c in UNIT:
            section += (digit or 1) * UNIT[c]
            digit = 0
        elif c == "亿":
            total = (total + section + digit) * 10**8
            section = digit = 0
        elif c == "万":
            total += (section + digit) * 10**4
            section = digit = 0
        i += 1
    return total + section + digit


@given(st.integers(0, 10**20))
def test_cn_number_reads_back_to_the_number(n: int) -> None:
    words = cn_number(n)
    assert read_back(words) == n, words
    assert "零零" not in words and not (n and words.endswith("零"))


def test_tts_command_setting(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    for text, expected in (('tts_command = "off"\n', "off"),
                           ('tts_command = ["espeak-ng", "-v", "cmn", "--stdin"]\n',
                            ("espeak-ng", "-v", "cmn", "--stdin")),
                           ("tts_command = []\n", ())):
        path.write_text(text, encoding="utf-8")
        settings = load_settings(tmp_path)
        assert settings.tts_command == expected
        save_settings(tmp_path, settings)
        assert load_settings(tmp_path) == settings
    assert KioskSettings().tts_command == ()
    for bad in ('tts_command = "espeak-ng -v cmn"\n', "tts_command = [1, 2]\n",
                'tts_command = [""]\n'):
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(SettingsError, match='tts_command: expected a list of strings or "off"'):
            load_settings(tmp_path)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_espeak_ng_speaks_mandarin_to_a_wav_file(tmp_path: Path) -> None:
    # The default engine with its default arguments, writing to a file instead of the
    # sound card: the text comes in on stdin and a second or more of sound comes out.
    wav = tmp_path / "x.wav"
    command = (*find_command(()), "-w", str(wav))
    subprocess.run(command, input="你好，欢迎来到幸福里社区。".encode(), check=True, timeout=60)
    import wave

    with wave.open(str(wav)) as w:
        seconds = w.getnframes() / w.getframerate()
        frames = w.readframes(w.getnframes())
    assert seconds > 1.0 and any(frames)
    assert os.path.getsize(wav) > 20_000
