"""`juwu doctor`: what is wrong with this installation and how to fix it.

content/ checks what it owns (configuration, data directory, cache, schema, trust anchor,
hub and clock). Packages that depend on content/ add their own checks (fonts, boards)
through the entry-point group ``juwu.doctor``: each names a function
``checks(config) -> list[Check]``, so content/ never imports them.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points

from content.config import Config

# A clock this far from the hub's makes expiry checks misjudge metadata (docs/sync.md).
MAX_CLOCK_SKEW_S = 300


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: not configured or skipped, a warning rather than a failure
    detail: str
    fix: str = ""


def run_checks(config: Config, *, extra: Iterable[Callable[[Config], list[Check]]] | None = None,
               http_get: Callable[[str, float], dict[str, str]] | None = None) -> list[Check]:
    """Every check, content's first; a check that raises is reported, never fatal."""
    providers: list[Callable[[Config], list[Check]]] = [
        _config, _data_dir, _cache, lambda c: _hub(c, http_get or _get_date)]
    if extra is None:
        extra = [ep.load() for ep in entry_points(group="juwu.doctor")]
    providers.extend(extra)
    results: list[Check] = []
    for provider in providers:
        try:
            results.extend(provider(config))
        except Exception as e:  # a broken check must not hide the others
            name = getattr(provider, "__module__", "check")
            results.append(Check(name, False, f"the check itself failed: {e!r}"))
    return results


def _config(config: Config) -> list[Check]:
    return [Check("configuration", True, "read from " + ", ".join(config.sources))]


def _data_dir(config: Config) -> list[Check]:
    path = config.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".doctor-write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as e:
        return [Check("data directory", False, f"{path}: {e.strerror or e}",
                      f"make {path} writable by the user running juwu, or set paths.data_dir")]
    free = _free_bytes(path)
    if free < 200 * 1024 * 1024:
        return [Check("data directory", False, f"{path}: only {free // 2**20} MB free",
                      "free disk space: syncs and backups need room")]
    return [Check("data directory", True, f"{path} ({free // 2**20} MB free)")]


def _free_bytes(path: os.PathLike[str]) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _cache(config: Config) -> list[Check]:
    from content.db import CacheError, integrity_problems, open_cache
    from content.migrate import current_revision, head_revision

    try:
        cache = open_cache(config.database_path)
    except CacheError as e:
        return [Check("cache", False, str(e), "see docs/operations.md, 'When things go wrong'")]
    try:
        problems = integrity_problems(cache.engine)
        revision = current_revision(cache.engine)
    finally:
        cache.close()
    out = []
    if problems:
        out.append(Check("cache", False, f"{config.database_path}: {'; '.join(problems[:3])}",
                         "restore a backup (`juwu restore`) or move the file aside and sync"))
    else:
        out.append(Check("cache", True, f"{config.database_path} passes quick_check"))
    head = head_revision()
    out.append(Check("schema", revision == head, f"at {revision}, this juwu expects {head}",
                     "" if revision == head else "run `juwu init`"))
    return out


def _get_date(url: str, timeout_s: float) -> dict[str, str]:
    import requests

    response = requests.get(url, timeout=timeout_s)
    return {"status": str(response.status_code), "date": response.headers.get("Date", "")}


def _hub(config: Config, http_get: Callable[[str, float], dict[str, str]]) -> list[Check]:
    from content.sync.client import trusted_root_path

    if not config.sync.hub_url:
        return [Check("sync", None, "sync.hub_url is empty: this device does not sync",
                      "set sync.hub_url and install the trusted root (docs/sync.md)")]
    out = []
    root = trusted_root_path(config)
    try:
        signed = json.loads(root.read_text(encoding="utf-8"))["signed"]
        out.append(Check("trust anchor", signed.get("_type") == "root",
                         f"{root}: root version {signed.get('version')}"))
    except (OSError, ValueError, KeyError, TypeError) as e:
        out.append(Check("trust anchor", False, f"{root}: {e}",
                         "copy the community's root.json there (docs/sync.md, key ceremony)"))
    url = config.sync.hub_url.rstrip("/") + "/healthz"
    try:
        reply = http_get(url, config.sync.connect_timeout_s)
    except Exception as e:
        out.append(Check("hub", False, f"{config.sync.hub_url} unreachable: {e}",
                         "check the network and that `juwu hub serve` runs there"))
        return out
    out.append(Check("hub", reply["status"] == "200", f"{url} answered {reply['status']}"))
    if reply.get("date"):
        hub_time = email.utils.parsedate_to_datetime(reply["date"])
        skew = (dt.datetime.now(dt.UTC) - hub_time).total_seconds()
        ok = abs(skew) <= MAX_CLOCK_SKEW_S
        out.append(Check("clock", ok, f"this device is {skew:+.0f} s from the hub",
                         "" if ok else "set the time (timedatectl set-ntp true)"))
    return out


def render(checks: list[Check]) -> str:
    marks = {True: "✓", False: "✗", None: "!"}
    lines = []
    for c in checks:
        lines.append(f"{marks[c.ok]} {c.name}: {c.detail}")
        if c.fix and c.ok is not True:
            lines.append(f"    → {c.fix}")
    failed = sum(1 for c in checks if c.ok is False)
    lines.append(f"\n{failed} problem(s)" if failed else "\nno problems found")
    return "\n".join(lines)
