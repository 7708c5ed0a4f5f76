"""Device side of sync: python-tuf's ngclient behind one function, `sync`.

Nothing reaches the cache before TUF has verified it (shared/style.md, "For juwu" 4):
metadata is refreshed and checked by `tuf.ngclient.Updater`; the bundle manifest and each
file are TUF targets checked by length and sha256; files land via temp + fsync +
os.replace under content-addressed names; the cache changes in one SQLite transaction
through `content.importer`, and the bundle version only moves forward. On any failure the
device keeps its last verified content and records why (SyncState + AuditEntry).

The network is `HubFetcher`, a `FetcherInterface` over requests with urllib3 Retry
(backoff with jitter, Retry-After capped), a per-body deadline, size caps and Range/If-Range
resume. A poll with no change is one conditional request (If-None-Match on timestamp.json);
the local metadata is still verified (expiry included) on that path.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import hashlib
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session
from tuf.api import exceptions as tuf_errors
from tuf.api.metadata import Metadata, TargetFile, Timestamp
from tuf.ngclient import FetcherInterface, Updater, UpdaterConfig
from urllib3.util.retry import Retry

from content.blobs import BlobStore
from content.config import Config, SyncConfig
from content.db import Cache, unit_of_work
from content.durable import fsync_dir
from content.errors import CacheError
from content.importer import ContentError, import_content, read_content_dir
from content.models import Attachment, AuditEntry, SyncState
from content.sync.bundle import (
    BUNDLE_TARGET,
    BundleError,
    Manifest,
    blob_target,
    check_target_name,
    parse_manifest,
    part_target,
)

log = logging.getLogger(__name__)
CHUNK_BYTES = 1 << 16
ROOT_URL_RE = re.compile(r"/\d+\.root\.json$")
CLOCK_SKEW_WARN = dt.timedelta(hours=1)
BLOB_GC_GRACE = dt.timedelta(hours=1)


class SyncStatus(enum.StrEnum):
    UPDATED = "updated"            # a newer verified bundle is now in the cache
    UNCHANGED = "unchanged"        # verified: the cache already holds the hub's bundle
    REJECTED = "rejected"          # verification or validation failed: old content kept
    UNREACHABLE = "unreachable"    # network or hub trouble: old content kept, try later
    NOT_CONFIGURED = "not-configured"
    FAILED = "failed"              # a local problem (disk, cache file)
    BUSY = "busy"                  # another sync of this device is running: nothing done


EXIT_CODES = {SyncStatus.UPDATED: 0, SyncStatus.UNCHANGED: 10, SyncStatus.UNREACHABLE: 11,
              SyncStatus.REJECTED: 12, SyncStatus.BUSY: 13, SyncStatus.NOT_CONFIGURED: 2,
              SyncStatus.FAILED: 1}


@dataclass(frozen=True)
class SyncOutcome:
    status: SyncStatus
    message: str
    reason: str = ""  # short machine-readable kind, e.g. "expired", "signature", "rollback"
    version: int | None = None
    requests: int = 0
    body_bytes: int = 0

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


class _Rejected(Exception):
    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


def _checkpoint(name: str) -> None:
    """A named instant of the apply sequence; the crash tests replace this to die there."""


# --- HTTP ------------------------------------------------------------------------------


class _CappedRetry(Retry):
    """urllib3 Retry whose Retry-After is capped by backoff_max: a hostile or confused hub
    cannot park the device for a day."""

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), self.backoff_max)


def make_session(cfg: SyncConfig) -> requests.Session:
    """requests with urllib3 Retry: connection errors, 429 and 5xx, exponential backoff with
    jitter, Retry-After honoured (capped). POST is retried too: every POST juwu makes carries
    an idempotency key."""
    retry = _CappedRetry(
        total=cfg.retries, connect=cfg.retries, read=cfg.retries, status=cfg.retries,
        backoff_factor=cfg.backoff_factor_s, backoff_max=cfg.backoff_max_s,
        backoff_jitter=cfg.backoff_jitter_s, status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD", "PUT", "POST"}),
        respect_retry_after_header=True, raise_on_status=False)
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "juwu-sync/1"
    return session


class HubFetcher(FetcherInterface):
    """The only way sync reaches the network. Counts requests and body bytes."""

    def __init__(self, cfg: SyncConfig, session: requests.Session | None = None) -> None:
        self.cfg = cfg
        self.session = session or make_session(cfg)
        self.requests = 0
        self.body_bytes = 0
        self.hub_date: dt.datetime | None = None
        self.offline_root_probe = False
        self._preloaded: dict[str, bytes] = {}

    def preload(self, url: str, data: bytes) -> None:
        """Answer the next fetch of `url` with `data` (already fetched by `poll`)."""
        self._preloaded[url] = data

    def poll(self, url: str, etag: str | None, max_bytes: int) -> bytes | None:
        """Conditional GET: None when the hub answers 304 Not Modified.

        Raises:
            tuf_errors.DownloadError: network trouble, an HTTP error, or a body over max_bytes.
        """
        headers = {"If-None-Match": etag} if etag else {}
        response = self._open(url, headers)
        try:
            if response.status_code == 304:
                return None
            chunks: list[bytes] = []
            size = 0
            for chunk in self._body(url, response):
                size += len(chunk)
                if size > max_bytes:
                    raise tuf_errors.DownloadLengthMismatchError(
                        f"{url}: more than {max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            response.close()

    def _fetch(self, url: str) -> Iterator[bytes]:
        if url in self._preloaded:
            return iter([self._preloaded.pop(url)])
        if self.offline_root_probe and ROOT_URL_RE.search(url):
            # timestamp.json is unchanged, and the hub re-signs it with every root rotation
            # (docs/sync.md): there is no newer root to look for.
            raise tuf_errors.DownloadHTTPError(f"{url}: not fetched (timestamp unchanged)", 404)
        return self._body(url, self._open(url, {}))

    def _open(self, url: str, headers: dict[str, str]) -> requests.Response:
        try:
            response = self.session.get(
                url, headers=headers, stream=True,
                timeout=(self.cfg.connect_timeout_s, self.cfg.read_timeout_s))
        except requests.Timeout as e:
            raise tuf_errors.SlowRetrievalError(f"{url}: timed out") from e
        except requests.RequestException as e:
            raise tuf_errors.DownloadError(f"{url}: {e}") from e
        self.requests += 1
        self._note_date(response)
        if response.status_code not in (200, 206, 304):
            response.close()
            raise tuf_errors.DownloadHTTPError(f"{url}: HTTP {response.status_code}",
                                               response.status_code)
        return response

    def _note_date(self, response: requests.Response) -> None:
        from email.utils import parsedate_to_datetime

        with contextlib.suppress(KeyError, TypeError, ValueError):
            self.hub_date = parsedate_to_datetime(response.headers["Date"])

    def _body(self, url: str, response: requests.Response) -> Iterator[bytes]:
        """The body's chunks, within the deadline; a failure in the middle resumes with
        Range/If-Range (safe: with consistent snapshots a URL's bytes never change)."""
        deadline = time.monotonic() + self.cfg.download_deadline_s
        etag = response.headers.get("ETag")
        ranges = response.headers.get("Accept-Ranges") == "bytes"
        received = resumes = 0
        try:
            while True:
                try:
                    for chunk in response.iter_content(CHUNK_BYTES):
                        if time.monotonic() > deadline:
                            raise tuf_errors.SlowRetrievalError(
                                f"{url}: not complete after {self.cfg.download_deadline_s} s")
                        received += len(chunk)
                        self.body_bytes += len(chunk)
                        yield chunk
                    return
                except requests.RequestException as e:
                    response.close()
                    if not (etag and ranges and resumes < self.cfg.resume_attempts):
                        raise tuf_errors.DownloadError(f"{url}: broken off: {e}") from e
                    resumes += 1
                    log.info("resuming %s at byte %d (attempt %d)", url, received, resumes)
                    response = self._open(url, {"Range": f"bytes={received}-",
                                                "If-Range": etag})
                    start = response.headers.get("Content-Range", "")
                    if response.status_code != 206 or not start.startswith(
                            f"bytes {received}-"):
                        raise tuf_errors.DownloadError(
                            f"{url}: changed while downloading (no resume)") from e
        finally:
            response.close()


# --- state -----------------------------------------------------------------------------


def read_state(session: Session) -> dict[str, str]:
    return {row.key: row.value for row in session.scalars(select(SyncState))}


def write_state(session: Session, values: dict[str, str | None]) -> None:
    for key, value in values.items():
        row = session.get(SyncState, key)
        if value is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(SyncState(key=key, value=value, updated_at=_utcnow_naive()))
        else:
            row.value = value


def _utcnow_naive() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


# --- the sync --------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncPaths:
    data_dir: Path

    @property
    def metadata_dir(self) -> Path:
        return self.data_dir / "tuf" / "metadata"

    @property
    def parts_dir(self) -> Path:
        return self.data_dir / "sync" / "parts"

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "sync" / "staging"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "sync" / "tmp"


def trusted_root_path(config: Config) -> Path:
    if config.sync.trusted_root:
        return Path(config.sync.trusted_root).expanduser()
    return config.data_dir / "tuf" / "trusted-root.json"


@contextlib.contextmanager
def _sync_lock(data_dir: Path) -> Iterator[bool]:
    """One sync per device at a time (ngclient wants one Updater per metadata directory):
    `juwu board run`, the kiosk and a `juwu sync` timer may share a data dir. An flock, so
    a killed holder releases it; per open file, so two threads exclude each other too."""
    import fcntl

    path = data_dir / "sync" / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def sync(config: Config, cache: Cache, *, clock: Callable[[], dt.datetime] | None = None,
         fetcher: HubFetcher | None = None) -> SyncOutcome:
    """Bring the cache to the hub's newest verified bundle, or say why not.

    Never raises for network, hub or content problems: they are outcomes, recorded in
    SyncState (`last_result`, `last_error`, …) and, for rejections, in the audit log.
    BUSY (another sync of this device holds the lock) is returned and not recorded.
    """
    if not config.sync.hub_url:
        return SyncOutcome(SyncStatus.NOT_CONFIGURED, "sync.hub_url is not set")
    with _sync_lock(config.data_dir) as locked:
        if not locked:
            return SyncOutcome(SyncStatus.BUSY, "another sync of this device is running",
                               "busy")
        return _sync_locked(config, cache, clock, fetcher)


def _sync_locked(config: Config, cache: Cache, clock: Callable[[], dt.datetime] | None,
                 fetcher: HubFetcher | None) -> SyncOutcome:
    cfg = config.sync
    root_file = trusted_root_path(config)
    try:
        root_bytes = root_file.read_bytes()
    except OSError as e:
        return SyncOutcome(SyncStatus.NOT_CONFIGURED,
                           f"the trusted root {root_file} cannot be read ({e.strerror}); "
                           "install the root.json from the key ceremony there")
    device_now = (clock or (lambda: dt.datetime.now(dt.UTC)))()
    fetcher = fetcher or HubFetcher(cfg)
    with cache.sessions() as session:
        state = read_state(session)
    stored_floor = _parse_iso(state.get("time_floor"))
    floor = _supported_floor(stored_floor, _trusted_timestamp_expiry(config), config)
    floor_reset = floor if floor != stored_floor else None
    if floor_reset is not None:
        log.warning("the last trusted time %s is past the expiry of the timestamp this device "
                    "trusts; taking the hub's signing time %s instead",
                    _iso(stored_floor) if stored_floor else "-", _iso(floor_reset))
    reference = max(device_now, floor) if floor else device_now
    clock_warning = (f"device clock {_iso(device_now)} is behind the last trusted time "
                     f"{_iso(floor)}; expiry is checked against the latter"
                     if floor and device_now < floor else None)
    try:
        outcome = _run(config, cache, root_bytes, fetcher, reference, floor, state)
    except _Rejected as e:
        outcome = SyncOutcome(SyncStatus.REJECTED, str(e), e.reason)
    except tuf_errors.DownloadLengthMismatchError as e:
        outcome = SyncOutcome(SyncStatus.REJECTED, f"the hub sent more than allowed: {e}",
                              "oversize")
    except tuf_errors.ExpiredMetadataError as e:
        outcome = SyncOutcome(SyncStatus.REJECTED,
                              _expired_message(str(e), device_now, fetcher.hub_date), "expired")
    except tuf_errors.UnsignedMetadataError as e:
        outcome = SyncOutcome(SyncStatus.REJECTED, f"bad or missing signature: {e}", "signature")
    except tuf_errors.BadVersionNumberError as e:
        outcome = SyncOutcome(SyncStatus.REJECTED, f"version check failed (rollback or "
                              f"mix-and-match): {e}", "version")
    except tuf_errors.LengthOrHashMismatchError as e:
        outcome = SyncOutcome(SyncStatus.REJECTED, f"tampered file: {e}", "hash")
    except tuf_errors.RepositoryError as e:
        outcome = SyncOutcome(SyncStatus.REJECTED, f"metadata rejected: "
                              f"{type(e).__name__}: {e}", "metadata")
    except tuf_errors.DownloadHTTPError as e:
        kind = "nothing-published" if e.status_code == 404 else "http"
        outcome = SyncOutcome(SyncStatus.UNREACHABLE, f"hub answered: {e}", kind)
    except tuf_errors.DownloadError as e:
        outcome = SyncOutcome(SyncStatus.UNREACHABLE, f"cannot reach the hub: {e}", "network")
    except (CacheError, OSError) as e:
        outcome = SyncOutcome(SyncStatus.FAILED, f"local problem: {e}", "local")
    outcome = SyncOutcome(outcome.status, outcome.message, outcome.reason, outcome.version,
                          fetcher.requests, fetcher.body_bytes)
    _record(cache, outcome, device_now, reference, clock_warning, floor_reset, stored_floor)
    return outcome


def _hub_signed_at(timestamp_expires: dt.datetime, config: Config) -> dt.datetime:
    """When the hub signed a timestamp.json: it gives each one `hub.timestamp_expiry_s` to
    live (the same setting serves devices; a device set longer than the hub only errs low)."""
    return timestamp_expires - dt.timedelta(seconds=config.hub.timestamp_expiry_s)


def _trusted_timestamp_expiry(config: Config) -> dt.datetime | None:
    """The expiry of the timestamp.json this device holds (ngclient stores only metadata it
    verified), or None when there is none yet."""
    path = SyncPaths(config.data_dir).metadata_dir / "timestamp.json"
    try:
        return Metadata[Timestamp].from_bytes(path.read_bytes()).signed.expires
    except (OSError, tuf_errors.RepositoryError):  # unreadable: the sync itself will say so
        return None


def _supported_floor(floor: dt.datetime | None, timestamp_expires: dt.datetime | None,
                     config: Config) -> dt.datetime | None:
    """The stored last trusted time, unless it is at or past the expiry of the timestamp the
    device trusts. No verified clock can have put it there (a sync succeeds only before
    that expiry); only a publication's date could (juwu before the cap in `_apply` took it
    from an approver whose clock was ahead), and such a floor would refuse every sync until
    real time passed it. It falls back to when the hub signed that timestamp."""
    if floor is None or timestamp_expires is None or floor < timestamp_expires:
        return floor
    return _hub_signed_at(timestamp_expires, config)


def _expired_message(error: str, device_now: dt.datetime, hub_date: dt.datetime | None) -> str:
    msg = f"metadata expired ({error}): the hub may be frozen or replaying old metadata"
    if hub_date is not None and device_now - hub_date > CLOCK_SKEW_WARN:
        msg += (f"; or the device clock is wrong: it says {_iso(device_now)}, the hub says "
                f"{_iso(hub_date)}. Fix the clock (NTP); the last verified content stays")
    return msg


def _run(config: Config, cache: Cache, root_bytes: bytes, fetcher: HubFetcher,
         reference: dt.datetime, floor: dt.datetime | None,
         state: dict[str, str]) -> SyncOutcome:
    cfg = config.sync
    paths = SyncPaths(config.data_dir)
    paths.metadata_dir.mkdir(parents=True, exist_ok=True)
    base = cfg.hub_url.rstrip("/") + "/tuf/"
    ts_url = base + "metadata/timestamp.json"
    local_ts = paths.metadata_dir / "timestamp.json"
    etag = f'"{hashlib.sha256(local_ts.read_bytes()).hexdigest()}"' if local_ts.is_file() \
        else None
    body = fetcher.poll(ts_url, etag, cfg.timestamp_max_bytes)
    if body is None:
        # 304: verify what we hold (signatures, versions, expiry) without the network.
        fetcher.preload(ts_url, local_ts.read_bytes())
        fetcher.offline_root_probe = True
    else:
        fetcher.preload(ts_url, body)
    updater = Updater(
        str(paths.metadata_dir), base + "metadata/", str(paths.tmp_dir), base + "targets/",
        fetcher, UpdaterConfig(
            root_max_length=cfg.root_max_bytes, timestamp_max_length=cfg.timestamp_max_bytes,
            snapshot_max_length=cfg.snapshot_max_bytes,
            targets_max_length=cfg.targets_max_bytes, max_delegations=1),
        bootstrap=root_bytes)
    # Expiry is judged against max(device clock, last trusted time) (docs/sync.md, "Wrong
    # device clock"); ngclient reads the clock once, into this attribute, when built.
    updater._trusted_set.reference_time = reference
    updater.refresh()
    info = updater.get_targetinfo(BUNDLE_TARGET)
    if info is None:
        raise _Rejected("no-bundle", "the signed targets name no bundle.json")
    bundle_sha = _sha_of(info)
    current = int(state.get("version", "0"))
    if bundle_sha == state.get("bundle_sha256"):
        return SyncOutcome(SyncStatus.UNCHANGED, f"up to date (version {current})",
                           version=current)
    if info.length > cfg.bundle_max_bytes:
        raise _Rejected("oversize", f"bundle.json is {info.length} bytes "
                                    f"(limit {cfg.bundle_max_bytes})")
    paths.tmp_dir.mkdir(parents=True, exist_ok=True)
    manifest_bytes = _download(updater, info, paths.tmp_dir / "bundle.json").read_bytes()
    try:
        manifest = parse_manifest(manifest_bytes, max_bytes=cfg.bundle_max_bytes,
                                  max_files=cfg.bundle_max_files)
    except BundleError as e:
        raise _Rejected("bundle", f"bundle rejected: {e}") from None
    if manifest.version <= current:
        raise _Rejected("rollback", f"bundle version {manifest.version} is not newer than "
                                    f"the cache's {current}")
    parts = _fetch_parts(updater, manifest, paths)
    _fetch_attachments(updater, manifest, BlobStore(config.blob_dir), paths)
    hub_time = _hub_signed_at(updater._trusted_set.timestamp.expires, config)
    new_floor = max(t for t in (floor, reference, min(manifest.published_at, hub_time)) if t)
    _apply(config, cache, manifest, bundle_sha, parts, paths, new_floor)
    _collect_garbage(config, cache, manifest, paths)
    return SyncOutcome(SyncStatus.UPDATED, f"applied version {manifest.version}",
                       version=manifest.version)


def _sha_of(info: TargetFile) -> str:
    sha = info.hashes.get("sha256")
    if not sha:
        raise _Rejected("metadata", f"target {info.path} has no sha256 hash")
    return sha


def _signed_target(updater: Updater, name: str, sha256: str, length: int) -> TargetFile:
    check_target_name(name)
    info = updater.get_targetinfo(name)
    if info is None:
        raise _Rejected("mix", f"{name} is in the bundle but not in the signed targets")
    if _sha_of(info) != sha256 or info.length != length:
        raise _Rejected("mix", f"{name}: bundle and signed targets disagree")
    return info


def _download(updater: Updater, info: TargetFile, dest: Path) -> Path:
    """Verified bytes, placed atomically: streamed straight into a temp file beside `dest`
    while counted against the signed length and hashed, then fsync + os.replace.

    Equivalent to ngclient's `download_target` (same checks, same errors), which instead
    spools the whole file into a TemporaryFile (often RAM-backed /tmp) and copies it:
    twice the disk traffic, and a 1 GB attachment in tmpfs memory.
    """
    sha = _sha_of(info)
    name = info.path
    if updater._trusted_set.root.consistent_snapshot:
        head, sep, base = name.rpartition("/")
        name = f"{head}{sep}{sha}.{base}"
    url = f"{updater._target_base_url}{name}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".dl-")
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as f:
            for chunk in updater._fetcher.fetch(url):
                size += len(chunk)
                if size > info.length:
                    raise tuf_errors.DownloadLengthMismatchError(
                        f"{url}: more than the signed {info.length} bytes")
                digest.update(chunk)
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        if size != info.length:
            raise tuf_errors.LengthOrHashMismatchError(
                f"{info.path}: {size} bytes, signed length {info.length}")
        if digest.hexdigest() != sha:
            raise tuf_errors.LengthOrHashMismatchError(
                f"{info.path}: sha256 {digest.hexdigest()} is not the signed {sha}")
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest



def _fetch_parts(updater: Updater, manifest: Manifest, paths: SyncPaths) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for ref in manifest.files:
        info = _signed_target(updater, part_target(ref.sha256), ref.sha256, ref.length)
        dest = paths.parts_dir / f"{ref.sha256}.toml"
        # Present means verified: nothing but _download writes here, and only whole files.
        if not (dest.is_file() and dest.stat().st_size == ref.length):
            _download(updater, info, dest)
        out[ref.sha256] = dest
    return out


def _fetch_attachments(updater: Updater, manifest: Manifest, blobs: BlobStore,
                       paths: SyncPaths) -> None:
    for ref in manifest.attachments:
        info = _signed_target(updater, blob_target(ref.sha256), ref.sha256, ref.length)
        dest = blobs.path_for(ref.sha256)
        if not (dest.is_file() and dest.stat().st_size == ref.length):
            _download(updater, info, dest)


def _apply(config: Config, cache: Cache, manifest: Manifest, bundle_sha: str,
           parts: dict[str, Path], paths: SyncPaths, new_floor: dt.datetime) -> None:
    staging = paths.staging_dir
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    root = staging.resolve()
    blobs = BlobStore(config.blob_dir)
    for ref in (*manifest.files, *manifest.attachments):
        dest = staging / ref.path
        if not dest.resolve().is_relative_to(root):  # safe_relpath already refused these
            raise _Rejected("path", f"{ref.path!r} leaves the staging directory")
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = parts[ref.sha256] if ref in manifest.files else blobs.path_for(ref.sha256)
        try:
            os.link(src, dest)
        except OSError:
            shutil.copyfile(src, dest)
    _checkpoint("staged")
    try:
        raw = read_content_dir(staging)
        with unit_of_work(cache) as session:
            state = read_state(session)
            current = int(state.get("version", "0"))
            if manifest.version <= current:  # another sync got here first
                raise _Rejected("rollback", f"bundle version {manifest.version} is not newer "
                                            f"than the cache's {current}")
            report = import_content(session, raw, config, actor=f"sync:v{manifest.version}")
            write_state(session, {"version": str(manifest.version),
                                  "bundle_sha256": bundle_sha,
                                  "published_at": _iso(manifest.published_at),
                                  "time_floor": _iso(new_floor)})
            session.add(AuditEntry(actor="sync", action="sync-apply", entity="bundle",
                                   entity_uid=str(manifest.version),
                                   detail={"bundle_sha256": bundle_sha,
                                           "from_version": current, **report.as_dict()}))
            _checkpoint("before-commit")
        _checkpoint("committed")
    except ContentError as e:
        raise _Rejected("content", f"the bundle's content is refused: {e}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _collect_garbage(config: Config, cache: Cache, manifest: Manifest,
                     paths: SyncPaths) -> None:
    """After the commit: parts of older bundles, and blobs nothing refers to any more."""
    keep_parts = {f"{ref.sha256}.toml" for ref in manifest.files}
    for p in paths.parts_dir.glob("*.toml"):
        if p.name not in keep_parts:
            p.unlink(missing_ok=True)
    with cache.sessions() as session:
        referenced = set(session.scalars(select(Attachment.sha256).distinct()))
    referenced |= {ref.sha256 for ref in manifest.attachments}
    cutoff = time.time() - BLOB_GC_GRACE.total_seconds()  # spare an import in progress
    for p in config.blob_dir.glob("??/*"):
        if p.name not in referenced and p.stat().st_mtime < cutoff:
            p.unlink(missing_ok=True)
    shutil.rmtree(paths.tmp_dir, ignore_errors=True)


def _record(cache: Cache, outcome: SyncOutcome, device_now: dt.datetime,
            reference: dt.datetime, clock_warning: str | None,
            floor_reset: dt.datetime | None = None,
            stored_floor: dt.datetime | None = None) -> None:
    values: dict[str, str | None] = {
        "last_attempt_at": _iso(device_now), "last_result": outcome.status.value,
        "clock_warning": clock_warning,
    }
    if floor_reset is not None and outcome.status is not SyncStatus.UPDATED:
        values["time_floor"] = _iso(floor_reset)  # an apply already wrote its own
    if outcome.status in (SyncStatus.UPDATED, SyncStatus.UNCHANGED):
        values.update(last_success_at=_iso(device_now), last_error=None,
                      last_error_kind=None)
    else:
        values.update(last_error=outcome.message[:2000], last_error_kind=outcome.reason,
                      last_error_at=_iso(device_now))
        log.warning("sync %s (%s): %s", outcome.status.value, outcome.reason, outcome.message)
    try:
        with unit_of_work(cache) as session:
            write_state(session, values)
            if floor_reset is not None:
                session.add(AuditEntry(actor="sync", action="sync-floor-reset",
                                       entity="sync_state", entity_uid="time_floor",
                                       detail={"from": _iso(stored_floor) if stored_floor
                                               else None, "to": _iso(floor_reset)}))
            if outcome.status is SyncStatus.REJECTED:
                session.add(AuditEntry(actor="sync", action="sync-reject", entity="bundle",
                                       entity_uid=outcome.reason[:64] or "unknown",
                                       detail={"message": outcome.message[:2000],
                                               "reference_time": _iso(reference)}))
    except CacheError as e:  # pragma: no cover - the disk is gone; say so on the log
        log.error("cannot record the sync outcome: %s", e)


def sync_status(session: Session) -> dict[str, Any]:
    """What `juwu sync --status` and `juwu stats` show: SyncState plus the outbox."""
    from content.sync.outbox import outbox_counts

    return {"state": read_state(session), "outbox": outbox_counts(session)}
