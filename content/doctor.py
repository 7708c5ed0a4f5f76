"""`juwu doctor`: what is wrong with this installation and how to fix it.

content/ checks what it owns (configuration, data directory, cache, schema, trust anchor,
hub and clock). Packages that depend on content/ add their own checks (fonts, boards)
through the entry-point group ``juwu.doctor``: each names a function
``checks(config) -> list[Check]``, so content/ never imports them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import errno
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from content.config import Config

# A clock this far from the hub's makes expiry checks misjudge metadata (docs/sync.md).
MAX_CLOCK_SKEW_S = 300
# Re-signing root needs two custodians and their offline keys (docs/keys.md): warn early.
ROOT_EXPIRY_WARN_DAYS = 60
RESIGN_ROOT = ("two root custodians re-sign it (docs/keys.md, \"Re-signing root\", REPLACE=\"\"), "
               "install it on the hub and publish: devices fetch it at their next sync")


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
    probe = path / ".doctor-write-test"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as e:
        with contextlib.suppress(OSError):
            probe.unlink()  # a full disk creates the file, then refuses its bytes
        return [Check("data directory", False, f"{path}: {e.strerror or e}",
                      data_dir_fix(path, e))]
    free = _free_bytes(path)
    if free < 200 * 1024 * 1024:
        return [Check("data directory", False, f"{path}: only {free // 2**20} MB free",
                      "free disk space: syncs and backups need room")]
    return [Check("data directory", True, f"{path} ({free // 2**20} MB free)")]


def data_dir_fix(path: Path, error: OSError) -> str:
    """What to do when the data directory cannot be written, by cause: each needs its own."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"free disk space where {path} is (`df -h {path}`; `du -sh {path}/*` shows "
                "what is big: old backups/ may go), or set paths.data_dir to a disk with room")
    if error.errno in (errno.EACCES, errno.EPERM):
        return (f"make {path} owned by and writable for the user running juwu (the units in "
                f"deploy/ run as juwu: `sudo chown -R juwu:juwu {path}`; run doctor as that "
                "user: `sudo -u juwu juwu doctor`), or set paths.data_dir")
    if error.errno == errno.EROFS:
        return (f"{path} is on a read-only filesystem: remount it read-write; if nobody "
                "mounted it so, the kernel did after disk errors (a failing SD card: `dmesg`), "
                "so back up and replace the card; or set paths.data_dir elsewhere")
    return f"check {path} and the disk under it (`dmesg`), or set paths.data_dir"


def _free_bytes(path: os.PathLike[str]) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _cache(config: Config) -> list[Check]:
    # Read-only: never creates or migrates the cache (that would hide what is found).
    from content.db import SCHEMA_HEAD, integrity_problems, open_cache, schema_revision
    from content.errors import CacheError

    path = config.database_path
    if not path.exists():
        return [Check("cache", None, f"{path} does not exist yet",
                      "run `juwu init` (or start the service), which creates it")]
    try:
        cache = open_cache(path, migrate=False)
    except CacheError as e:
        return [Check("cache", False, str(e), "see docs/operations.md, 'When things go wrong'")]
    try:
        problems = integrity_problems(cache.engine)
        revision = schema_revision(cache.engine)
    finally:
        cache.close()
    out = []
    if problems:
        out.append(Check("cache", False, f"{path}: {'; '.join(problems[:3])}",
                         "restore a backup (`juwu restore`) or move the file aside and sync"))
    else:
        out.append(Check("cache", True, f"{path} passes quick_check"))
    out.append(_schema(revision, SCHEMA_HEAD))
    return out


def _schema(revision: str | None, head: str) -> Check:
    from content.migrate import is_known_revision

    if revision == head:
        return Check("schema", True, f"at {revision}, this juwu expects {head}")
    if revision is None or is_known_revision(revision):
        return Check("schema", None, f"at {revision or 'none'}, this juwu expects {head}",
                     "run `juwu init` (or start the service) to migrate")
    return Check("schema", False, f"at {revision}, which this juwu (expecting {head}) does not "
                 "know: the cache was written by a newer version",
                 "upgrade juwu, or restore the backup made before the upgrade "
                 "(docs/upgrading.md)")


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
    out.extend(_root_expiry(config, dt.datetime.now(dt.UTC)))
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


def _root_expiry(config: Config, now: dt.datetime) -> list[Check]:
    """When the root.json this device verifies against expires: the newest of the installed
    trust anchor and the one the TUF client keeps after walking rotations (a symlink into
    root_history/). Once it lapses, syncs are refused until a re-signed root arrives."""
    from content.sync.client import SyncPaths, trusted_root_path

    roots = []
    for path in (trusted_root_path(config), SyncPaths(config.data_dir).metadata_dir / "root.json"):
        try:
            signed = json.loads(path.read_text(encoding="utf-8"))["signed"]
            expires = dt.datetime.strptime(signed["expires"], "%Y-%m-%dT%H:%M:%SZ")
            roots.append((int(signed["version"]), expires.replace(tzinfo=dt.UTC), path))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # missing or unreadable: the trust anchor check says so
    if not roots:
        return []
    version, expires, path = max(roots, key=lambda r: r[0])
    what = f"root.json version {version} ({path})"
    left = expires - now
    if left <= dt.timedelta(0):
        return [Check("root expiry", False,
                      f"{what} expired on {expires:%Y-%m-%d}: syncs are refused until a "
                      "re-signed root reaches this device", RESIGN_ROOT)]
    if left < dt.timedelta(days=ROOT_EXPIRY_WARN_DAYS):
        return [Check("root expiry", None,
                      f"{what} expires on {expires:%Y-%m-%d}, in {left.days} days; after "
                      "that syncs are refused", RESIGN_ROOT)]
    return [Check("root expiry", True, f"{what} expires on {expires:%Y-%m-%d}")]


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
