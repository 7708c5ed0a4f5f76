"""Read-aloud (朗读): a disclosure's text spoken by a text-to-speech program, one at a time.

The kiosk ships no speech engine: `espeak-ng` (Debian's package, Mandarin voice ``cmn``) is
used when it is on PATH, or whatever ``tts_command`` in kiosk.toml names. The command gets
the text as UTF-8 on its standard input and speaks it; it runs as its own process group,
so stopping it also stops what it started (``sh -c 'espeak-ng --stdout | aplay'``). No
Kivy here: the detail screen starts and stops it, tests drive it with a small script.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence

from kiosk.views import DetailView

log = logging.getLogger(__name__)
ESPEAK = "espeak-ng"
# Mandarin, a little slower than espeak's 175 words a minute, UTF-8 text read whole.
ESPEAK_ARGS = ("-v", "cmn", "-s", "150", "-b", "1", "--stdin")
OFF = "off"
STOP_GRACE_S = 2.0  # after SIGTERM, this long before SIGKILL

DIGITS = "零一二三四五六七八九"
SMALL_UNITS = ("", "十", "百", "千")


def find_command(setting: Sequence[str] | str,
                 which: Callable[[str], str | None] = shutil.which) -> tuple[str, ...]:
    """The argv to speak with, or () when there is none (read-aloud is then not offered).

    `setting` is kiosk.toml's ``tts_command``: "off", a list of argv, or empty for
    espeak-ng if it is installed.
    """
    if setting == OFF:
        return ()
    if setting:
        program = which(setting[0])
        if program is None:
            log.warning("kiosk: tts_command %s not found; read-aloud is off", setting[0])
            return ()
        return (program, *setting[1:])
    espeak = which(ESPEAK)
    return (espeak, *ESPEAK_ARGS) if espeak else ()


class Speaker:
    """Speaks one text at a time; a new text or `stop()` ends the one being spoken."""

    def __init__(self, command: Sequence[str]) -> None:
        self.command = tuple(command)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def available(self) -> bool:
        return bool(self.command)

    def speaking(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def speak(self, text: str) -> None:
        """Start speaking `text` (stopping what was being spoken); returns at once.

        The text goes through an unlinked temporary file, not a pipe: a long text would
        fill a pipe and block the caller (the UI thread) until the program read it.
        """
        self.stop()
        if not self.available:
            return
        with tempfile.TemporaryFile() as source:
            source.write(text.encode("utf-8"))
            source.seek(0)
            try:
                self._process = subprocess.Popen(
                    self.command, stdin=source, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, start_new_session=True)
            except OSError as e:
                log.error("kiosk: read-aloud could not start %s: %s", self.command[0], e)

    def stop(self) -> None:
        """End the speech, if any, without waiting: it is reaped on a short-lived thread."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        _signal_group(process, signal.SIGTERM)
        threading.Thread(target=_reap, args=(process,), name="kiosk-tts-reap",
                         daemon=True).start()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)  # its own session: the group is the process's pid


def _reap(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait()


def spoken_text(view: DetailView) -> str:
    """What is read: the title, the heading, the text, then a finance table's totals.

    Always in Chinese (the content is Chinese, the voice Mandarin). Amounts are written
    in words (六万七千七百六十五元五角): a voice reads "67,765.50" digit group by group.
    """
    heading = view.heading.replace(" · ", "，")  # a voice may read the dot's name
    parts = [f"{view.title}。", f"{heading}。", *view.paragraphs]
    if view.finance is not None:
        f = view.finance
        for label, amount in (("上期结余", f.opening), ("本期收入合计", f.income),
                              ("本期支出合计", f.expense), ("期末结余", f.closing)):
            parts.append(f"{label}{yuan_words(amount)}。")
    return "\n".join(parts)


def yuan_words(amount: str) -> str:
    """"67,765.50" → "六万七千七百六十五元五角"; "-1.05" → "负一元零五分"; "0.05" → "五分"."""
    text = amount.replace(",", "").strip()
    negative = text.startswith("-")
    whole, _, frac = text.lstrip("-").partition(".")
    if not whole.isdigit() or not (frac == "" or (frac.isdigit() and len(frac) <= 2)):
        return amount  # not an amount: read as written
    jiao, fen = (int(c) for c in (frac + "00")[:2])
    words = "" if int(whole) == 0 and (jiao or fen) else cn_number(int(whole)) + "元"
    if jiao:
        words += DIGITS[jiao] + "角"
    if fen:
        words += ("零" if words and not jiao else "") + DIGITS[fen] + "分"
    if not (jiao or fen):
        words += "整"
    return ("负" if negative else "") + words


def cn_number(n: int) -> str:
    """A non-negative integer in Chinese words: 10 → 十, 1005 → 一千零五, 20000 → 二万,
    1000100000000 → 一万零一亿."""
    if n < 0:
        raise ValueError("cn_number: negative")
    return _words(n, leading=True) if n else DIGITS[0]


def _words(n: int, *, leading: bool) -> str:
    for unit, size in (("亿", 10**8), ("万", 10**4)):
        if n >= size:
            high, low = divmod(n, size)
            out = _words(high, leading=leading) + unit
            if low:  # 一万零五十: a zero where a place is skipped
                out += (DIGITS[0] if low < size // 10 else "") + _words(low, leading=False)
            return out
    return _four_digits(n, leading=leading)


def _four_digits(n: int, *, leading: bool) -> str:
    digits = [n // 1000, n // 100 % 10, n // 10 % 10, n % 10]
    out = ""
    zero = False
    for pos, d in enumerate(digits):
        unit = SMALL_UNITS[3 - pos]
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += DIGITS[0]
            zero = False
        if d == 1 and unit == "十" and not out and leading:
            out += unit  # 十五, not 一十五, at the start of a number
        else:
            out += DIGITS[d] + unit
    return out


__all__ = ["Speaker", "cn_number", "find_command", "spoken_text", "yuan_words"]
