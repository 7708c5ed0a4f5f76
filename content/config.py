"""Typed configuration: config/default.toml, then a user file, then JUWU_* variables.

One `Config` object is built at the edge (the CLI, a service's main) and passed in;
nothing reads configuration from globals. A wrong key or value is a `ConfigError` that
names the file, the key and the type that was expected.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import platformdirs

ENV_PREFIX = "JUWU_"
APP_NAME = "juwu"

Cadence = Literal["monthly", "quarterly"]


class ConfigError(ValueError):
    """A configuration file or variable is wrong; the message says where and how."""


@dataclass(frozen=True)
class PathsConfig:
    data_dir: str

    def resolved_data_dir(self) -> Path:
        if self.data_dir:
            return Path(self.data_dir).expanduser()
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
class Config:
    paths: PathsConfig
    community: CommunityConfig
    disclosure: DisclosureConfig
    search: SearchConfig
    sources: tuple[str, ...] = ()

    @property
    def data_dir(self) -> Path:
        return self.paths.resolved_data_dir()

    @property
    def database_path(self) -> Path:
        return self.data_dir / "cache.sqlite3"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"


def default_config_file() -> Path:
    """config/default.toml of a source checkout, else the copy installed under share/."""
    here = Path(__file__).resolve().parent.parent / "config" / "default.toml"
    if here.is_file():
        return here
    return Path(sys.prefix) / "share" / APP_NAME / "config" / "default.toml"


def user_config_file() -> Path:
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
    return {f.name: hints[f.name] for f in dataclasses.fields(Config) if f.name != "sources"}


def _merge(base: dict[str, Any], override: Mapping[str, Any], origin: str) -> None:
    sections = _section_fields()
    for section, values in override.items():
        if section not in sections:
            known = ", ".join(sorted(sections))
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
    return cls(**sections, sources=sources)


def _coerce(value: Any, expected: Any, where: str) -> Any:
    if typing.get_origin(expected) is Literal:
        allowed = typing.get_args(expected)
        if value in allowed:
            return value
        choices = " or ".join(repr(a) for a in allowed)
        raise ConfigError(f"{where}: expected one of {choices}, got {value!r}")
    if isinstance(value, _EnvText):
        return _from_env_text(str(value), expected, where)
    if expected is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if expected is bool and isinstance(value, bool):
        return value
    if expected is str and isinstance(value, str):
        return value
    if isinstance(expected, types.UnionType):
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
    if expected is bool:
        lowered = text.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{where}: expected bool (true/false), got {text!r}")
    return text
