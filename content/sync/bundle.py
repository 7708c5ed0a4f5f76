"""The content bundle: what one publication is, as TUF targets (docs/sync.md, "Bundle").

A publication is a manifest target, ``bundle.json``, naming the content directory's TOML
files and attachments by sha256; each file is its own content-addressed target
(``parts/<sha256>.toml``, ``blobs/<sha256>``), so a device fetches only what it lacks and
the importer reads exactly the bytes the approvers signed. No I/O here: bytes in, frozen
dataclasses out, every field and name checked, every size capped.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

BUNDLE_TARGET = "bundle.json"
FORMAT = 1
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# Target names a device will ever ask for; anything else in a manifest is refused before a
# byte is fetched or a path is built from it.
TARGET_NAME_RE = re.compile(r"^(bundle\.json|parts/[0-9a-f]{64}\.toml|blobs/[0-9a-f]{64})$")
MAX_PATH_CHARS = 240
MAX_SEGMENT_CHARS = 120


class BundleError(ValueError):
    """The bundle is malformed or names something unsafe; the message says what."""


@dataclass(frozen=True)
class FileRef:
    path: str  # relative POSIX path inside the content directory
    sha256: str
    length: int


@dataclass(frozen=True)
class Manifest:
    version: int
    # UTC, from the approvers' clock: raises the device's last trusted time, but no further
    # than the hub's signed timestamp vouches (client._run)
    published_at: dt.datetime
    files: tuple[FileRef, ...]  # *.toml
    attachments: tuple[FileRef, ...]

    def to_bytes(self) -> bytes:
        """Canonical JSON (sorted keys, no spaces): the same manifest is the same bytes."""
        def refs(items: tuple[FileRef, ...]) -> list[dict[str, Any]]:
            return [{"path": r.path, "sha256": r.sha256, "length": r.length}
                    for r in sorted(items, key=lambda r: r.path)]

        data = {"format": FORMAT, "version": self.version,
                "published_at": self.published_at.astimezone(dt.UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"),
                "files": refs(self.files), "attachments": refs(self.attachments)}
        return json.dumps(data, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode()


def part_target(sha256: str) -> str:
    return f"parts/{sha256}.toml"


def blob_target(sha256: str) -> str:
    return f"blobs/{sha256}"


def check_target_name(name: str) -> str:
    """A target name this protocol uses.

    Raises:
        BundleError: anything else (traversal, absolute paths, odd names).
    """
    if not TARGET_NAME_RE.match(name):
        raise BundleError(f"target name {name[:100]!r} is not one this protocol uses")
    return name


def safe_relpath(path: Any) -> str:
    """A relative path that stays inside the directory it is joined to.

    Raises:
        BundleError: absolute, empty, '..', backslashes, control characters, too long.
    """
    if not isinstance(path, str) or not path:
        raise BundleError(f"path {path!r} is not a non-empty string")
    shown = repr(path[:100])
    if len(path) > MAX_PATH_CHARS:
        raise BundleError(f"path {shown} is longer than {MAX_PATH_CHARS} characters")
    if path.startswith("/") or "\\" in path or re.match(r"^[A-Za-z]:", path):
        raise BundleError(f"path {shown} is absolute or not a POSIX path")
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise BundleError(f"path {shown} contains control characters")
    parts = path.split("/")
    for seg in parts:
        if seg in ("", ".", "..") or seg.startswith(".") or len(seg) > MAX_SEGMENT_CHARS:
            raise BundleError(f"path {shown} has an unsafe segment {seg[:40]!r}")
    return str(PurePosixPath(*parts))


def parse_manifest(data: bytes, *, max_bytes: int, max_files: int) -> Manifest:
    """Check a manifest's bytes (already verified against signed metadata).

    Raises:
        BundleError: too big, not JSON, wrong shape, unsafe or duplicate paths.
    """
    if len(data) > max_bytes:
        raise BundleError(f"bundle manifest is {len(data)} bytes (limit {max_bytes})")
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BundleError(f"bundle manifest is not JSON: {e}") from None
    if not isinstance(obj, dict):
        raise BundleError("bundle manifest is not a JSON object")
    allowed = {"format", "version", "published_at", "files", "attachments"}
    if set(obj) != allowed:
        raise BundleError(f"bundle manifest keys {sorted(obj)} != {sorted(allowed)}")
    if obj["format"] != FORMAT:
        raise BundleError(f"bundle format {obj['format']!r} is not supported (want {FORMAT})")
    version = obj["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BundleError(f"bundle version {version!r} is not a positive integer")
    try:
        published = dt.datetime.strptime(str(obj["published_at"]), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise BundleError(f"published_at {obj['published_at']!r} is not "
                          "YYYY-MM-DDTHH:MM:SSZ") from None
    files = _refs(obj["files"], "files", max_files)
    attachments = _refs(obj["attachments"], "attachments", max_files)
    if not files:
        raise BundleError("bundle lists no content files")
    for ref in files:
        if not ref.path.endswith(".toml"):
            raise BundleError(f"files: {ref.path!r} is not a .toml file")
    for ref in attachments:
        if ref.path.endswith(".toml"):
            raise BundleError(f"attachments: {ref.path!r} would be read as content")
    seen: set[str] = set()
    for ref in (*files, *attachments):
        # Case-folded: two names that are one file on a case-insensitive disk are refused.
        key = ref.path.casefold()
        if key in seen or any(key.startswith(s + "/") or s.startswith(key + "/")
                              for s in seen):
            raise BundleError(f"path {ref.path!r} collides with another entry")
        seen.add(key)
    return Manifest(version, published.replace(tzinfo=dt.UTC), files, attachments)


def _refs(items: Any, where: str, max_files: int) -> tuple[FileRef, ...]:
    if not isinstance(items, list):
        raise BundleError(f"{where} is not a list")
    if len(items) > max_files:
        raise BundleError(f"{where} lists {len(items)} entries (limit {max_files})")
    out: list[FileRef] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != {"path", "sha256", "length"}:
            raise BundleError(f"{where}[{i}] must be {{path, sha256, length}}")
        sha, length = item["sha256"], item["length"]
        if not isinstance(sha, str) or not SHA256_RE.match(sha):
            raise BundleError(f"{where}[{i}].sha256 is not a sha256 hex digest")
        if not isinstance(length, int) or isinstance(length, bool) or length < 0:
            raise BundleError(f"{where}[{i}].length is not a non-negative integer")
        out.append(FileRef(safe_relpath(item["path"]), sha, length))
    return tuple(out)
