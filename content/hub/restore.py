"""`juwu restore --hub`: the hub's database and repository back from a backup, without
rolling back what devices have already seen.

Devices refuse a timestamp or snapshot version lower than one they trust (TUF rollback
protection), and the backup's `timestamp.json` is such an older one. So it is never copied
back; instead the hub signs a new snapshot and timestamp, numbered above every version it
published before the restore and every version in the backup. Versioned metadata and
targets the hub has and the backup lacks stay, and the new snapshot names the newest
targets: published content does not go back (devices would refuse older targets too).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tuf.api.exceptions import RepositoryError
from tuf.api.metadata import Metadata, Timestamp

from content.backup import copy_missing, restore_database, saved_files_dir
from content.config import HubConfig
from content.errors import CacheError
from content.sync.keys import KeyFileError, load_signer
from content.sync.repository import HubRepository

TIMESTAMP = Path("metadata") / "timestamp.json"


@dataclass(frozen=True)
class HubRestore:
    kept: Path | None  # the previous database
    files_copied: int  # repository files the hub lacked (or held in another version)
    targets_version: int | None  # the newest publication, still served; None: nothing yet
    snapshot_version: int | None  # signed by the restore
    timestamp_version: int | None


def timestamp_version(path: Path) -> int:
    """The version of a timestamp.json file; 0 when it is missing or unreadable."""
    try:
        return Metadata[Timestamp].from_bytes(path.read_bytes()).signed.version
    except (OSError, RepositoryError):
        return 0


def restore_hub(backup: Path, database: Path, repo: Path, keys: Path,
                config: HubConfig) -> HubRestore:
    """Put the database `backup` in place of `database`, copy the repository files that
    `repo` lacks from the backup's files, then sign snapshot and timestamp anew with the
    online keys in `keys`. Stop the hub first. Safe to run again after an interruption:
    the current timestamp.json is replaced only by the new signature.

    Raises:
        CacheError: the backup is missing, damaged, or the online keys cannot be read
            (nothing was changed).
    """
    saved = saved_files_dir(backup)
    above = max(timestamp_version(repo / TIMESTAMP), timestamp_version(saved / TIMESTAMP))
    hub_repo: HubRepository | None = None
    if (repo / TIMESTAMP).exists() or (saved / TIMESTAMP).exists():  # something published
        try:
            hub_repo = HubRepository(repo, load_signer(keys / "snapshot.pem"),
                                     load_signer(keys / "timestamp.pem"),
                                     timestamp_expiry_s=config.timestamp_expiry_s,
                                     snapshot_expiry_s=config.snapshot_expiry_s)
        except KeyFileError as e:
            raise CacheError(f"{e}: restoring the hub signs a new snapshot and timestamp with "
                             "its online keys; nothing was changed") from e
    kept = restore_database(backup, database, require_juwu=False)
    copied = copy_missing(saved, repo, skip=frozenset({TIMESTAMP}))
    if hub_repo is not None and timestamp_version(repo / TIMESTAMP) == 0:
        (repo / TIMESTAMP).unlink(missing_ok=True)  # damaged (or none): signed anew below
    status = hub_repo.resign(above_timestamp=above) if hub_repo is not None else None
    if status is None:
        return HubRestore(kept, copied, None, None, None)
    return HubRestore(kept, copied, status.targets_version, status.snapshot_version,
                      status.timestamp_version)
