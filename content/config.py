"""Typed configuration: config/default.toml, then a user file, then JUWU_* variables.

One `Config` object is built at the edge (the CLI, a service's main) and passed in;
nothing reads configuration from globals. A wrong key or value is a `ConfigError` that
names the file, the key and the type that was expected.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import sys
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

# platformdirs is imported where used: a device names its files in JUWU_CONFIG (the
# systemd units do), and the kiosk's start-up is measured (bench/kiosk_bench.py).

ENV_PREFIX = "JUWU_"
APP_NAME = "juwu"

Cadence = Literal["monthly", "quarterly"]
# Board protocols by name; display_driver.protocols.PROTOCOLS holds the classes (a test keeps
# the two in step, since content/ must not import display_driver).
BoardProtocolName = Literal["onbon-bx5e", "onbon-bx5k", "alpha"]
BoardColour = Literal["mono", "red", "green", "yellow", "amber"]
BOARD_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
QUIET_HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class ConfigError(ValueError):
    """A configuration file or variable is wrong; the message says where and how."""


@dataclass(frozen=True)
class PathsConfig:
    data_dir: str

    def resolved_data_dir(self) -> Path:
        if self.data_dir:
            return Path(self.data_dir).expanduser()
        import platformdirs

        return Path(platformdirs.user_data_dir(APP_NAME))


@dataclass(frozen=True)
class CommunityConfig:
    name: str
    code: str
    timezone: str


@dataclass(frozen=True)
class DisclosureConfig:
    min_display_days: int
    reply_working_days: int
    named_complaint_days: int
    review_lead_working_days: int
    satisfaction_threshold_percent: int
    affairs_cadence: Cadence
    finance_cadence: Cadence
    publish_day: int


@dataclass(frozen=True)
class SearchConfig:
    default_limit: int
    max_query_chars: int
    candidate_cap: int


@dataclass(frozen=True)
class SyncConfig:
    """The device side of sync (docs/sync.md): where the hub is, the trust anchor, and every
    limit on what the network may make the device do, with units in the names."""

    hub_url: str  # e.g. "http://10.0.0.2:8470"; empty: sync is not configured
    trusted_root: str  # root.json shipped with the install; empty: <data_dir>/tuf/trusted-root.json
    connect_timeout_s: float
    read_timeout_s: float  # longest silence while reading a body
    download_deadline_s: float  # whole-body wall-clock limit (slow-drip protection)
    retries: int  # urllib3 Retry total (connection errors, 429/5xx, Retry-After honoured)
    backoff_factor_s: float
    backoff_max_s: float
    backoff_jitter_s: float
    resume_attempts: int  # Range/If-Range resumes after a failure in the middle of a body
    root_max_bytes: int
    timestamp_max_bytes: int
    snapshot_max_bytes: int
    targets_max_bytes: int
    bundle_max_bytes: int  # the bundle manifest (bundle.json)
    bundle_max_files: int
    outbox_batch: int  # submissions sent per sync
    outbox_backoff_max_s: float  # longest wait between relay attempts after failures
    poll_interval_s: float  # periodic sync in the kiosk and board processes
    poll_jitter_s: float  # random extra delay so a district's devices don't arrive at once
    poll_backoff_max_s: float  # longest wait between periodic syncs while the hub is down
    device_number: int  # 1-9 for each kiosk when a community has several; 0 for a single one


@dataclass(frozen=True)
class HubConfig:
    """The reference content server (`juwu hub serve`) and the publisher's defaults."""

    host: str
    port: int
    data_dir: str  # empty: <paths.data_dir>/hub
    database_url: str  # empty: SQLite in the hub data dir; or postgresql+psycopg://…
    timestamp_expiry_s: int  # the hub re-signs timestamp.json before half of this is left
    snapshot_expiry_s: int
    targets_expiry_days: int  # set by `juwu publish` (approvers must publish this often)
    max_upload_bytes: int
    max_submission_bytes: int
    staff_token_sha256: str  # the hub: sha256 hex of the staff token; empty: staff API closed
    staff_token: str  # staff machines (`juwu publish`): the token; set JUWU_HUB__STAFF_TOKEN


@dataclass(frozen=True)
class DriverConfig:
    """``juwu board run`` as a whole (docs/boards.md, "What the driver does")."""

    poll_s: float  # re-read the cache at least this often (synced changes appear)
    attempts_per_update: int  # tries in a row before an update counts as one failure
    fault_after: int  # consecutive failures before a board is marked faulted
    retry_initial_s: float  # pause after a failed update, doubling ...
    retry_max_s: float  # ... up to this
    reconnect_initial_s: float  # pause before reopening a lost port, doubling ...
    reconnect_max_s: float  # ... up to this


@dataclass(frozen=True)
class BoardConfig:
    """One LED board (a ``[[boards]]`` table). ``None`` serial settings mean the
    protocol's own default (docs/boards.md, "Serial settings")."""

    name: str
    protocol: BoardProtocolName
    port: str  # device path (/dev/ttyUSB0) or pyserial URL (socket://host:port, loop://)
    width: int
    height: int
    address: int = 1
    baudrate: int | None = None
    bytesize: Literal[7, 8] | None = None
    parity: Literal["N", "E", "O"] | None = None
    stopbits: Literal[1, 2] | None = None
    timeout_s: float = 1.0
    font: str = ""  # pixel font file; empty: GNU Unifont 16 px
    colour: BoardColour = "mono"
    quiet_hours: str = ""  # "22:00-06:30"; empty: never quiet
    quiet_mode: Literal["blank", "dim"] = "blank"
    refresh_s: int = 600  # resend what is shown this often, even when nothing changed
    rotate_s: int = 20  # equal-priority announcements take turns of this many seconds
    page_s: float = 5.0  # each page of a long text stays this long
    dim_brightness: int = 3  # quiet_mode "dim": brightness 0..15 (15 = full)
    device_type: str = ""  # Onbon card model ("BX-5E1") or code ("0x0154"); empty: any

    def quiet_window(self) -> tuple[dt.time, dt.time] | None:
        """Start and end of quiet hours (the end may be on the next day), or None."""
        if not self.quiet_hours:
            return None
        m = QUIET_HOURS.match(self.quiet_hours)
        if m is None:
            raise ValueError(f"quiet_hours {self.quiet_hours!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        return dt.time(h1, m1), dt.time(h2, m2)

    def is_quiet(self, at: dt.datetime) -> bool:
        """Whether ``at`` (community local time) falls in quiet hours; windows may cross
        midnight ("22:00-06:30" covers 23:00 and 05:00)."""
        window = self.quiet_window()
        if window is None:
            return False
        start, end = window
        t = at.time()
        if start < end:
            return start <= t < end
        return t >= start or t < end


@dataclass(frozen=True)
class Config:
    paths: PathsConfig
    community: CommunityConfig
    disclosure: DisclosureConfig
    search: SearchConfig
    driver: DriverConfig
    sync: SyncConfig
    hub: HubConfig
    boards: tuple[BoardConfig, ...] = ()
    sources: tuple[str, ...] = ()

    def board(self, name: str) -> BoardConfig:
        """The board called ``name``.

        Raises:
            ConfigError: no board has that name (the message lists those that exist).
        """
        for b in self.boards:
            if b.name == name:
                return b
        known = ", ".join(b.name for b in self.boards) or "none are configured"
        raise ConfigError(f"no board named {name!r} in the configuration ({known})")

    @property
    def data_dir(self) -> Path:
        return self.paths.resolved_data_dir()

    @property
    def database_path(self) -> Path:
        return self.data_dir / "cache.sqlite3"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"


def local_now(config: Config) -> dt.datetime:
    """Naive community-local time, the way the cache stores timestamps."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(config.community.timezone)).replace(tzinfo=None)


def default_config_file() -> Path:
    """config/default.toml of a source checkout, else the copy installed under share/."""
    here = Path(__file__).resolve().parent.parent / "config" / "default.toml"
    if here.is_file():
        return here
    return Path(sys.prefix) / "share" / APP_NAME / "config" / "default.toml"


def user_config_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME)) / "juwu.toml"


def load_config(
    user_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Build the configuration.

    Order (later wins): defaults, the user file (argument, else $JUWU_CONFIG, else the
    platform's config dir if that file exists), then JUWU_<SECTION>__<KEY> variables.

    Raises:
        ConfigError: a file is missing or not TOML, a key is unknown, a value has the
            wrong type.
    """
    env = os.environ if environ is None else environ
    default_file = default_config_file()
    merged = _read_toml(default_file)
    sources = [str(default_file)]

    chosen: Path | None
    if user_file is not None:
        chosen = Path(user_file)
    elif env.get(ENV_PREFIX + "CONFIG"):
        chosen = Path(env[ENV_PREFIX + "CONFIG"])
    else:
        chosen = user_config_file() if user_config_file().is_file() else None
    if chosen is not None:
        _merge(merged, _read_toml(chosen), str(chosen))
        sources.append(str(chosen))

    for name, raw in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX):].lower().partition("__")
        _merge(merged, {section: {key: _EnvText(raw)}}, f"environment variable {name}")
        sources.append(f"${name}")

    return _build(Config, merged, str(default_file), sources=tuple(sources))


class _EnvText(str):
    """A value from the environment: text that still has to become the field's type."""


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: configuration file not found") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e


def _section_fields() -> dict[str, type]:
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config)
            if f.name not in ("sources", *LIST_SECTIONS)}


# Sections that are arrays of tables (``[[boards]]``): a later file replaces the whole list.
LIST_SECTIONS: dict[str, type[BoardConfig]] = {"boards": BoardConfig}


def _merge(base: dict[str, Any], override: Mapping[str, Any], origin: str) -> None:
    sections = _section_fields()
    for section, values in override.items():
        if section in LIST_SECTIONS:
            if isinstance(values, Mapping) and any(isinstance(v, _EnvText)
                                                   for v in values.values()):
                raise ConfigError(f"{origin}: {section} can only be set in a configuration "
                                  f"file, as [[{section}]] tables")
            if not isinstance(values, list) or not all(isinstance(v, Mapping) for v in values):
                raise ConfigError(f"{origin}: {section} must be an array of tables "
                                  f"([[{section}]])")
            base[section] = (values, origin)
            continue
        if section not in sections:
            known = ", ".join(sorted([*sections, *LIST_SECTIONS]))
            raise ConfigError(f"{origin}: unknown section [{section}] (known: {known})")
        if not isinstance(values, Mapping):
            raise ConfigError(f"{origin}: [{section}] must be a table of keys")
        keys = {f.name for f in dataclasses.fields(sections[section])}
        for key, value in values.items():
            if key not in keys:
                known = ", ".join(sorted(keys))
                raise ConfigError(f"{origin}: unknown key {section}.{key} (known: {known})")
            base.setdefault(section, {})[key] = (value, origin)


def _build(cls: type[Config], merged: dict[str, Any], default_origin: str,
           sources: tuple[str, ...]) -> Config:
    sections: dict[str, Any] = {}
    for section, section_cls in _section_fields().items():
        values = merged.get(section, {})
        hints = typing.get_type_hints(section_cls)
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(section_cls):
            if f.name not in values:
                raise ConfigError(f"{default_origin}: missing key {section}.{f.name}")
            entry = values[f.name]
            value, origin = entry if isinstance(entry, tuple) else (entry, default_origin)
            kwargs[f.name] = _coerce(value, hints[f.name], f"{origin}: {section}.{f.name}")
        sections[section] = section_cls(**kwargs)
    entry = merged.get("boards", [])
    raw_boards, origin = entry if isinstance(entry, tuple) else (entry, default_origin)
    if not isinstance(raw_boards, list) or not all(isinstance(b, Mapping) for b in raw_boards):
        raise ConfigError(f"{origin}: boards must be an array of tables ([[boards]])")
    boards = tuple(_build_board(entry, f"{origin}: boards[{i}]")
                   for i, entry in enumerate(raw_boards))
    seen: set[str] = set()
    for i, b in enumerate(boards):
        if b.name in seen:
            raise ConfigError(f"{origin}: boards[{i}].name: {b.name!r} is used by two boards")
        seen.add(b.name)
    return cls(**sections, boards=boards, sources=sources)


def _build_board(entry: Mapping[str, Any], where: str) -> BoardConfig:
    fields = {f.name: f for f in dataclasses.fields(BoardConfig)}
    hints = typing.get_type_hints(BoardConfig)
    if isinstance(entry.get("name"), str):
        where = f"{where} ({entry['name']})"
    unknown = sorted(set(entry) - set(fields))
    if unknown:
        known = ", ".join(sorted(fields))
        raise ConfigError(f"{where}: unknown key {unknown[0]} (known: {known})")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in entry:
            if f.default is dataclasses.MISSING:
                raise ConfigError(f"{where}: missing key {name}")
            continue
        kwargs[name] = _coerce(entry[name], hints[name], f"{where}.{name}")
    board = BoardConfig(**kwargs)
    _check_board(board, where)
    return board


def _check_board(b: BoardConfig, where: str) -> None:
    """Value checks the types alone cannot express; each names the key."""
    def bad(key: str, why: str) -> ConfigError:
        return ConfigError(f"{where}.{key}: {why}, got {getattr(b, key)!r}")

    if not BOARD_NAME.match(b.name):
        raise bad("name", "expected 1-32 letters, digits, '-' or '_'")
    if not b.port:
        raise bad("port", "expected a device path or pyserial URL")
    if not (0 < b.width <= 4096 and 0 < b.height <= 4096):
        raise bad("width" if not 0 < b.width <= 4096 else "height",
                  "expected 1..4096 pixels")
    if not 0 <= b.address <= 0xFFFF:
        raise bad("address", "expected 0..65535")
    if b.baudrate is not None and b.baudrate <= 0:
        raise bad("baudrate", "expected a positive baud rate")
    if not 0 < b.timeout_s <= 60:
        raise bad("timeout_s", "expected more than 0 and at most 60 seconds")
    if b.refresh_s < 1:
        raise bad("refresh_s", "expected at least 1 second")
    if b.rotate_s < 1:
        raise bad("rotate_s", "expected at least 1 second")
    if not 0 <= b.page_s <= 600:
        raise bad("page_s", "expected 0..600 seconds")
    if not 0 <= b.dim_brightness <= 15:
        raise bad("dim_brightness", "expected 0..15")
    m = QUIET_HOURS.match(b.quiet_hours)
    if b.quiet_hours and (m is None or int(m[1]) > 23 or int(m[3]) > 23 or int(m[2]) > 59
                          or int(m[4]) > 59 or m.group(1, 2) == m.group(3, 4)):
        raise bad("quiet_hours", 'expected "HH:MM-HH:MM" with two different times')


def _coerce(value: Any, expected: Any, where: str) -> Any:
    if typing.get_origin(expected) is Literal:
        allowed = typing.get_args(expected)
        if value in allowed and type(value) in {type(a) for a in allowed}:
            return value
        choices = " or ".join(repr(a) for a in allowed)
        raise ConfigError(f"{where}: expected one of {choices}, got {value!r}")
    if isinstance(value, _EnvText):
        return _from_env_text(str(value), expected, where)
    if expected is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if expected is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if expected is bool and isinstance(value, bool):
        return value
    if expected is str and isinstance(value, str):
        return value
    if typing.get_origin(expected) in (typing.Union, types.UnionType):
        arms = [a for a in typing.get_args(expected) if a is not type(None)]
        if len(arms) == 1:  # "X | None": TOML has no null, so a value present is an X
            return _coerce(value, arms[0], where)
        raise ConfigError(f"{where}: unsupported type {expected}")
    raise ConfigError(
        f"{where}: expected {getattr(expected, '__name__', expected)}, "
        f"got {type(value).__name__} {value!r}"
    )


def _from_env_text(text: str, expected: Any, where: str) -> Any:
    if expected is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{where}: expected int, got {text!r}") from None
    if expected is float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{where}: expected float, got {text!r}") from None
    if expected is bool:
        lowered = text.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{where}: expected bool (true/false), got {text!r}")
    return text
