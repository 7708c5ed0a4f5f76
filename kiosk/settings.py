"""Kiosk settings: ``<data_dir>/kiosk.toml``, next to the cache it shows.

These keys concern only the touchscreen (idle timeout, admin PIN, locale), so they live in
the kiosk's own small file rather than the shared configuration; ``juwu kiosk --set-pin``
writes the PIN's hash there. Every key is optional; a wrong type is reported by name.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

# hashlib, hmac, secrets and tomli_w are imported where used: PINs are checked and
# settings written long after start-up, which is measured (bench/kiosk_bench.py).

FILE_NAME = "kiosk.toml"
PIN_ITERATIONS = 200_000
LOCKOUT_FREE_TRIES = 3
LOCKOUT_FIRST_S = 30.0
LOCKOUT_MAX_S = 15 * 60.0


class SettingsError(ValueError):
    """kiosk.toml is unreadable or holds a wrong value; the message names the key."""


@dataclass(frozen=True)
class KioskSettings:
    idle_timeout_s: int = 90         # no touch this long: back to home, input cleared
    screensaver_after_s: int = 300   # on home this long untouched: announcements in large
                                     # type for passers-by (0: never)
    locale: str = "zh"               # "zh" or "en"
    admin_pin_hash: str = ""         # written by `juwu kiosk --set-pin`; empty: no admin
    screen_diagonal_in: float = 21.5  # for touch targets of at least 15 mm
    font: str = ""                   # a CJK font file; empty: WenQuanYi Micro Hei
    # Read-aloud: argv of a program that speaks UTF-8 text from its stdin; empty: espeak-ng
    # (Mandarin) if installed; "off": no read-aloud button (kiosk.speech).
    tts_command: tuple[str, ...] | str = ()

    def with_pin(self, pin: str) -> KioskSettings:
        return replace(self, admin_pin_hash=hash_pin(pin))


def settings_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def load_settings(data_dir: Path) -> KioskSettings:
    """The settings in `data_dir`, defaults for what is not there.

    Raises:
        SettingsError: not TOML, an unknown key, or a value of the wrong type.
    """
    path = settings_path(data_dir)
    if not path.is_file():
        return KioskSettings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise SettingsError(f"{path}: {e}") from e
    known = {f.name: f for f in fields(KioskSettings)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise SettingsError(f"{path}: unknown key {key} (known: {', '.join(known)})")
        if key == "tts_command":
            values[key] = _command(path, key, value)
            continue
        default = getattr(KioskSettings(), key)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(default):
            raise SettingsError(f"{path}: {key}: expected {type(default).__name__}, "
                                f"got {value!r}")
        values[key] = value
    settings = KioskSettings(**values)
    if settings.idle_timeout_s < 10:
        raise SettingsError(f"{path}: idle_timeout_s: at least 10 seconds")
    if settings.screensaver_after_s and settings.screensaver_after_s < 30:
        raise SettingsError(f"{path}: screensaver_after_s: 0 (never) or at least 30 seconds")
    return settings


def _command(path: Path, key: str, value: Any) -> tuple[str, ...] | str:
    """A list of argv (non-empty strings), or the word "off"."""
    if value == "off":
        return "off"
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise SettingsError(f'{path}: {key}: expected a list of strings or "off", got {value!r}')


def save_settings(data_dir: Path, settings: KioskSettings) -> Path:
    """Write atomically (temp file + fsync + rename), readable by the owner only."""
    path = settings_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    data = {f.name: getattr(settings, f.name) for f in fields(KioskSettings)}
    import tomli_w

    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        tomli_w.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def hash_pin(pin: str) -> str:
    """PBKDF2-SHA256 with a random salt: the PIN itself is never stored."""
    if not (4 <= len(pin) <= 12 and pin.isdigit()):
        raise SettingsError("the admin PIN must be 4 to 12 digits")
    import hashlib
    import secrets

    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, PIN_ITERATIONS)
    return f"pbkdf2_sha256${PIN_ITERATIONS}${salt.hex()}${digest.hex()}"


def check_pin(pin: str, stored: str) -> bool:
    import hashlib
    import hmac

    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        got = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


class PinGate:
    """Admin PIN checks with lockout: after a few wrong PINs, waits that double each time."""

    def __init__(self, stored_hash: str) -> None:
        self.stored_hash = stored_hash
        self.failures = 0
        self.locked_until = 0.0

    def wait_s(self, now: float) -> float:
        return max(0.0, self.locked_until - now)

    def try_pin(self, pin: str, now: float) -> bool:
        """True if `pin` is right and the gate is not locked; a wrong PIN counts."""
        if not self.stored_hash or self.wait_s(now) > 0:
            return False
        if check_pin(pin, self.stored_hash):
            self.failures = 0
            return True
        self.failures += 1
        over = self.failures - LOCKOUT_FREE_TRIES
        if over >= 0:
            self.locked_until = now + min(LOCKOUT_MAX_S, LOCKOUT_FIRST_S * 2 ** over)
        return False
