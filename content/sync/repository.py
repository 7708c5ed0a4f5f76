"""The hub's TUF repository: stores what approvers signed, signs snapshot and timestamp.

Files, laid out for consistent snapshots so that a URL's bytes never change (which makes
resuming a download with Range safe):

    <root>/metadata/<N>.root.json, <N>.targets.json, <N>.snapshot.json, timestamp.json
    <root>/targets/bundle.json as <sha256>.bundle.json, parts/<sha256>.<sha256>.toml,
                   blobs/<sha256>.<sha256>
    <root>/incoming/<sha256>       uploads waiting for a signed targets.json that names them

The hub holds only the snapshot and timestamp keys: `publish` accepts a targets.json only
if the approvers' threshold of signatures verifies against the current root.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from securesystemslib.signer import Signer
from tuf.api.exceptions import UnsignedMetadataError
from tuf.api.metadata import Metadata, MetaFile, Root, Snapshot, Targets, Timestamp
from tuf.api.serialization import DeserializationError
from tuf.api.serialization.json import JSONSerializer

from content.durable import fsync_dir
from content.sync.bundle import SHA256_RE, BundleError, check_target_name
from content.sync.keys import load_signer

METADATA_NAME_RE = re.compile(r"^(?:(\d{1,10})\.)?(root|snapshot|targets|timestamp)\.json$")
TARGET_URL_RE = re.compile(
    r"^(?:[0-9a-f]{64}\.bundle\.json|parts/[0-9a-f]{64}\.[0-9a-f]{64}\.toml"
    r"|blobs/[0-9a-f]{64}\.[0-9a-f]{64})$")


class PublishError(ValueError):
    """A publication was refused; `errors` lists why, `conflict` marks a version race."""

    def __init__(self, errors: list[str], *, conflict: bool = False) -> None:
        self.errors, self.conflict = errors, conflict
        super().__init__("; ".join(errors))


@dataclass(frozen=True)
class RepoStatus:
    root_version: int
    targets_version: int
    snapshot_version: int
    timestamp_version: int


def atomic_write(path: Path, data: bytes) -> None:
    """temp file + fsync + os.replace + directory fsync: old bytes or new, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise



def target_url_path(name: str, sha256: str) -> str:
    """Where a consistent-snapshot client looks for target `name` (hash-prefixed basename)."""
    head, sep, base = name.rpartition("/")
    return f"{head}{sep}{sha256}.{base}"


class Upload:
    """Bytes arriving for `incoming/<sha256>`: written to a temp file, hashed as they come,
    renamed into place only when complete and correct."""

    def __init__(self, directory: Path, sha256: str, max_bytes: int) -> None:
        self.directory, self.sha256, self.max_bytes = directory, sha256, max_bytes
        self._digest = hashlib.sha256()
        self.size = 0
        fd, name = tempfile.mkstemp(dir=directory, prefix=".up-")
        self._tmp = Path(name)
        self._file = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        """Raises: PublishError when the upload grows past max_bytes."""
        self.size += len(chunk)
        if self.size > self.max_bytes:
            self.abort()
            raise PublishError([f"upload larger than {self.max_bytes} bytes"])
        self._digest.update(chunk)
        self._file.write(chunk)

    def finish(self) -> int:
        """Raises: PublishError when the bytes do not hash to the announced sha256."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        if self._digest.hexdigest() != self.sha256:
            self.abort()
            raise PublishError([f"upload hashes to {self._digest.hexdigest()}, "
                                f"not {self.sha256}"])
        os.replace(self._tmp, self.directory / self.sha256)
        return self.size

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._tmp.unlink(missing_ok=True)


class HubRepository:
    """One community's repository on the hub's disk; thread-safe for one process."""

    def __init__(self, root: Path, snapshot_signer: Signer, timestamp_signer: Signer, *,
                 timestamp_expiry_s: int, snapshot_expiry_s: int) -> None:
        self.root = root
        self.metadata_dir = root / "metadata"
        self.targets_dir = root / "targets"
        self.incoming_dir = root / "incoming"
        self._snapshot_signer, self._timestamp_signer = snapshot_signer, timestamp_signer
        self.timestamp_expiry = dt.timedelta(seconds=timestamp_expiry_s)
        self.snapshot_expiry = dt.timedelta(seconds=snapshot_expiry_s)
        self._lock = threading.Lock()

    @classmethod
    def open(cls, root: Path, keys_dir: Path, *, timestamp_expiry_s: int,
             snapshot_expiry_s: int) -> HubRepository:
        """Open the repository whose online keys are in `keys_dir` (snapshot.pem,
        timestamp.pem) and whose first root.json is installed.

        Raises:
            KeyFileError: a key file is missing or unreadable.
            FileNotFoundError: the repository was never initialised (`juwu hub init`).
        """
        repo = cls(root, load_signer(keys_dir / "snapshot.pem"),
                   load_signer(keys_dir / "timestamp.pem"),
                   timestamp_expiry_s=timestamp_expiry_s, snapshot_expiry_s=snapshot_expiry_s)
        if not (repo.metadata_dir / "1.root.json").is_file():
            raise FileNotFoundError(f"{repo.metadata_dir}/1.root.json: run `juwu hub init`")
        return repo

    @staticmethod
    def install_root(root: Path, root_bytes: bytes) -> None:
        """Put root.json version 1 in place (idempotent; refuses a different root)."""
        md = Metadata[Root].from_bytes(root_bytes)
        if md.signed.version != 1:
            raise PublishError([f"initial root must be version 1, got {md.signed.version}"])
        md.verify_delegate(Root.type, md)
        path = root / "metadata" / "1.root.json"
        if path.exists():
            if path.read_bytes() != root_bytes:
                raise PublishError([f"{path} exists and holds another root"])
            return
        atomic_write(path, root_bytes)

    # --- reading --------------------------------------------------------------------

    def _versions(self, role: str) -> list[int]:
        out = []
        for p in self.metadata_dir.glob(f"*.{role}.json"):
            m = METADATA_NAME_RE.match(p.name)
            if m and m.group(1):
                out.append(int(m.group(1)))
        return sorted(out)

    def root_md(self) -> Metadata[Root]:
        v = self._versions(Root.type)[-1]
        return Metadata[Root].from_bytes((self.metadata_dir / f"{v}.root.json").read_bytes())

    def status(self) -> RepoStatus:
        return RepoStatus(
            root_version=self._versions(Root.type)[-1],
            targets_version=(self._versions(Targets.type) or [0])[-1],
            snapshot_version=(self._versions(Snapshot.type) or [0])[-1],
            timestamp_version=self.timestamp_version(),
        )

    def timestamp_version(self) -> int:
        """The version of timestamp.json (0: none yet). Only the newest is kept on disk."""
        ts = self._timestamp()
        return ts.signed.version if ts else 0

    def _timestamp(self) -> Metadata[Timestamp] | None:
        path = self.metadata_dir / "timestamp.json"
        return Metadata[Timestamp].from_bytes(path.read_bytes()) if path.is_file() else None

    def metadata_path(self, name: str) -> Path | None:
        """The file for a metadata URL name, or None (unknown name or not there)."""
        if not METADATA_NAME_RE.match(name):
            return None
        path = self.metadata_dir / name
        return path if path.is_file() else None

    def target_path(self, url_path: str) -> Path | None:
        if not TARGET_URL_RE.match(url_path):
            return None
        path = self.targets_dir / url_path
        return path if path.is_file() else None

    # --- uploads and publication ----------------------------------------------------

    def has_blob(self, sha256: str) -> bool:
        return (self.incoming_dir / sha256).is_file() or any(
            self.targets_dir.glob(f"*/{sha256}.*")) or any(
            self.targets_dir.glob(f"{sha256}.*"))

    def begin_upload(self, sha256: str, max_bytes: int) -> Upload:
        """An upload to be stored under its sha256 once the bytes hash to it.

        Raises:
            PublishError: the name is not a sha256 hex digest.
        """
        if not SHA256_RE.match(sha256):
            raise PublishError([f"{sha256[:80]!r} is not a sha256 hex digest"])
        self.incoming_dir.mkdir(parents=True, exist_ok=True)
        return Upload(self.incoming_dir, sha256, max_bytes)

    def publish(self, targets_bytes: bytes, now: dt.datetime | None = None) -> RepoStatus:
        """Accept a targets.json signed by the approvers, then sign snapshot + timestamp.

        Raises:
            PublishError: bad signature/threshold, not the next version, expired, a target
                name this protocol does not use, or a target file that was not uploaded.
        """
        now = now or dt.datetime.now(dt.UTC)
        with self._lock:
            try:
                md = Metadata[Targets].from_bytes(targets_bytes)
            except (DeserializationError, ValueError, TypeError) as e:
                raise PublishError([f"targets.json is not TUF targets metadata: {e}"]) from None
            try:
                self.root_md().verify_delegate(Targets.type, md)
            except UnsignedMetadataError as e:
                raise PublishError([f"targets.json is not signed by the approvers: {e}"]) \
                    from None
            current = (self._versions(Targets.type) or [0])[-1]
            t = md.signed
            if t.version != current + 1:
                raise PublishError([f"targets version {t.version} is not the next one "
                                    f"({current + 1}); fetch the status and sign again"],
                                   conflict=True)
            if t.is_expired(now):
                raise PublishError([f"targets.json expired at {t.expires}"])
            errors: list[str] = []
            moves: list[tuple[Path, Path]] = []
            for name, info in t.targets.items():
                try:
                    check_target_name(name)
                except BundleError as e:
                    errors.append(str(e))
                    continue
                sha = info.hashes.get("sha256")
                if sha is None or not SHA256_RE.match(sha):
                    errors.append(f"{name}: no sha256 hash")
                    continue
                dest = self.targets_dir / target_url_path(name, sha)
                src = self.incoming_dir / sha
                have = dest if dest.is_file() else src if src.is_file() else None
                if have is None:
                    errors.append(f"{name}: not uploaded (sha256 {sha})")
                elif have.stat().st_size != info.length:
                    errors.append(f"{name}: uploaded {have.stat().st_size} bytes, "
                                  f"signed {info.length}")
                elif have == src:
                    moves.append((src, dest))
            if errors:
                raise PublishError(errors)
            for src, dest in moves:
                dest.parent.mkdir(parents=True, exist_ok=True)
                if not dest.exists():
                    os.link(src, dest)
            for _src, dest in moves:
                fsync_dir(dest.parent)
            atomic_write(self.metadata_dir / f"{t.version}.targets.json", targets_bytes)
            self._sign_online(targets_bytes, t.version, now, new_snapshot=True)
            for src, _dest in moves:
                src.unlink(missing_ok=True)
            return self.status()

    def refresh_online(self, now: dt.datetime | None = None) -> bool:
        """Re-sign timestamp (and snapshot) before half their lifetime is left, so devices
        never see expired metadata from a live hub. Returns whether anything was signed."""
        now = now or dt.datetime.now(dt.UTC)
        ts = self._timestamp()
        if ts is None:
            return False
        if ts.signed.expires - now > self.timestamp_expiry / 2:
            return False
        with self._lock:
            ts = self._timestamp()
            assert ts is not None
            if ts.signed.expires - now > self.timestamp_expiry / 2:
                return False
            tv = self._versions(Targets.type)[-1]
            data = (self.metadata_dir / f"{tv}.targets.json").read_bytes()
            sv = self._versions(Snapshot.type)[-1]
            snap = Metadata[Snapshot].from_bytes(
                (self.metadata_dir / f"{sv}.snapshot.json").read_bytes())
            renew = snap.signed.expires - now <= self.snapshot_expiry / 2
            self._sign_online(data, tv, now, new_snapshot=renew)
            return True

    def resign(self, *, above_timestamp: int = 0, now: dt.datetime | None = None
               ) -> RepoStatus | None:
        """Sign a new snapshot of the newest targets.json and a new timestamp, each numbered
        above every version this repository has published (None: nothing published yet).

        For a repository whose files came back from a backup (`content.hub.restore`):
        devices refuse a timestamp or snapshot version lower than one they have seen. Versioned
        snapshots stay on disk, so theirs is known; timestamp.json is kept only in its newest
        version, so the caller passes the highest one it saw as `above_timestamp`.
        """
        now = now or dt.datetime.now(dt.UTC)
        with self._lock:
            versions = self._versions(Targets.type)
            if not versions:
                return None
            data = (self.metadata_dir / f"{versions[-1]}.targets.json").read_bytes()
            self._sign_online(data, versions[-1], now, new_snapshot=True,
                              above_timestamp=above_timestamp)
            return self.status()

    def _sign_online(self, targets_bytes: bytes, targets_version: int, now: dt.datetime,
                     *, new_snapshot: bool, above_timestamp: int = 0) -> None:
        now = now.replace(microsecond=0)
        sv = (self._versions(Snapshot.type) or [0])[-1]
        if new_snapshot:
            snap = Snapshot(version=sv + 1, expires=now + self.snapshot_expiry,
                            meta={"targets.json": MetaFile(
                                version=targets_version, length=len(targets_bytes),
                                hashes={"sha256": hashlib.sha256(targets_bytes).hexdigest()})})
            smd = Metadata(snap)
            smd.sign(self._snapshot_signer)
            snap_bytes = smd.to_bytes(JSONSerializer(compact=True))
            sv += 1
            atomic_write(self.metadata_dir / f"{sv}.snapshot.json", snap_bytes)
        else:
            snap_bytes = (self.metadata_dir / f"{sv}.snapshot.json").read_bytes()
        ts = Timestamp(version=max(self.timestamp_version(), above_timestamp) + 1,
                       expires=now + self.timestamp_expiry,
                       snapshot_meta=MetaFile(version=sv, length=len(snap_bytes), hashes={
                           "sha256": hashlib.sha256(snap_bytes).hexdigest()}))
        tmd = Metadata(ts)
        tmd.sign(self._timestamp_signer)
        atomic_write(self.metadata_dir / "timestamp.json", tmd.to_bytes(JSONSerializer()))
