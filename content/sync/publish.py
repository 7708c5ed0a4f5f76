"""`juwu publish`: validate a content directory, sign it as TUF targets, hand it to the hub.

Runs on the approvers' machine, where the targets key is. What is validated is exactly
what is signed: the publishable files are first copied to a staging directory (drafts/
and hidden files stay behind), the staging directory is read and checked with
`content.importer.parse`, and the manifest is built from the same bytes. Replies staff
wrote on the hub are folded in as `hub-replies.toml`, so they reach devices under the
approvers' signature too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import tomli_w
from securesystemslib.signer import Signer
from tuf.api.metadata import Metadata, TargetFile, Targets
from tuf.api.serialization.json import JSONSerializer

from content.config import Config
from content.importer import RawContent, parse, read_content_dir
from content.sync.bundle import BUNDLE_TARGET, FileRef, Manifest, blob_target, part_target

REPLIES_FILE = "hub-replies.toml"
SKIPPED_DIRS = ("drafts",)


class PublishRefused(RuntimeError):
    """The hub refused the publication; `errors` lists why."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


@dataclass(frozen=True)
class Publication:
    manifest: Manifest
    manifest_bytes: bytes
    targets_bytes: bytes
    uploads: dict[str, Path]  # sha256 → file with those bytes (inside the staging dir)


def _publishable(src: Path) -> Iterator[Path]:
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if not path.is_file() or any(p.startswith(".") for p in rel.parts):
            continue
        if rel.parts[0] in SKIPPED_DIRS or rel.as_posix() == REPLIES_FILE:
            continue
        yield path


@contextmanager
def staged_content(src: Path, replies: list[dict[str, Any]]) -> Iterator[Path]:
    """A temporary copy of what will be published (see the module doc)."""
    with tempfile.TemporaryDirectory(prefix="juwu-publish-") as tmp:
        stage = Path(tmp) / "content"
        stage.mkdir()
        for path in _publishable(src):
            dest = stage / path.relative_to(src)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
        if replies:
            (stage / REPLIES_FILE).write_text(tomli_w.dumps({"feedback": replies}),
                                              encoding="utf-8")
        yield stage


def replies_for_bundle(hub_replies: list[dict[str, Any]], raw: RawContent) -> list[dict[str, Any]]:
    """Hub replies as [[feedback]] entries: no contact details; a ticket already in the
    directory wins; a reference to an item outside this set is dropped (devices would
    refuse the whole bundle for it)."""
    tickets = {e.data.get("ticket") for e in raw.entries["feedback"]}
    uids = {e.data.get("uid") for e in raw.entries["disclosure"]}
    out = []
    for r in hub_replies:
        if r["ticket"] in tickets:
            continue
        entry = {"ticket": r["ticket"], "kind": r["kind"], "topic": r["topic"],
                 "text": r["text"],
                 "submitted_at": dt.datetime.fromisoformat(r["submitted_at"]),
                 "reply_text": r["reply_text"],
                 "replied_at": dt.datetime.fromisoformat(r["replied_at"]),
                 "replied_by": r["replied_by"] or ""}
        if r.get("disclosure") in uids:
            entry["disclosure"] = r["disclosure"]
        out.append(entry)
    return out


def _sha(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 16):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def build_publication(stage: Path, config: Config, signers: Sequence[Signer], *, version: int,
                      now: dt.datetime | None = None) -> Publication:
    """Validate the staged directory and sign it as targets `version`.

    Raises:
        ContentError: the content breaks the format or a rule (every problem listed).
    """
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    raw = read_content_dir(stage)
    parsed = parse(raw, config.disclosure)
    files: list[FileRef] = []
    uploads: dict[str, Path] = {}
    for path in sorted(stage.rglob("*.toml")):
        sha, size = _sha(path)
        files.append(FileRef(path.relative_to(stage).as_posix(), sha, size))
        uploads[sha] = path
    attachments: dict[str, FileRef] = {}
    for d in parsed.disclosures:
        for a in d.attachments:
            rel = a.path.relative_to(stage.resolve()).as_posix()
            if rel not in attachments:
                sha, size = _sha(a.path)
                attachments[rel] = FileRef(rel, sha, size)
                uploads[sha] = a.path
    manifest = Manifest(version, now, tuple(files), tuple(attachments.values()))
    manifest_bytes = manifest.to_bytes()
    bundle_path = stage.parent / "bundle.json"
    bundle_path.write_bytes(manifest_bytes)
    uploads[hashlib.sha256(manifest_bytes).hexdigest()] = bundle_path
    targets = Targets(version=version, expires=now + dt.timedelta(
        days=config.hub.targets_expiry_days))
    targets.targets[BUNDLE_TARGET] = TargetFile.from_data(BUNDLE_TARGET, manifest_bytes,
                                                          ["sha256"])
    for ref in files:
        targets.targets[part_target(ref.sha256)] = TargetFile(
            ref.length, {"sha256": ref.sha256}, part_target(ref.sha256))
    for ref in attachments.values():
        targets.targets[blob_target(ref.sha256)] = TargetFile(
            ref.length, {"sha256": ref.sha256}, blob_target(ref.sha256))
    md = Metadata(targets)
    for signer in signers:
        md.sign(signer, append=True)
    return Publication(manifest, manifest_bytes, md.to_bytes(JSONSerializer()), uploads)


class HubClient:
    """The publisher's and staff's calls to the hub's /v1 API."""

    def __init__(self, base_url: str, session: requests.Session, timeout_s: float,
                 token: str = "") -> None:
        self.base = base_url.rstrip("/")
        self.session, self.timeout = session, timeout_s
        if token:  # the staff endpoints (uploads, publish, replies) want it
            self.session.headers["Authorization"] = f"Bearer {token}"

    def status(self) -> dict[str, Any]:
        r = self.session.get(f"{self.base}/v1/status", timeout=self.timeout)
        r.raise_for_status()
        data: dict[str, Any] = r.json()
        return data

    @staticmethod
    def _authorised(r: requests.Response) -> None:
        """Raises: PublishRefused on 401, saying what to set (not "cannot reach")."""
        if r.status_code == 401:
            raise PublishRefused(["the hub wants the staff token (HTTP 401): set "
                                  "JUWU_HUB__STAFF_TOKEN (hub.staff_token); `juwu hub token` "
                                  "makes one"])

    def replies(self) -> list[dict[str, Any]]:
        r = self.session.get(f"{self.base}/v1/replies", timeout=self.timeout)
        self._authorised(r)
        r.raise_for_status()
        data: list[dict[str, Any]] = r.json()
        return data

    def upload(self, sha256: str, path: Path) -> bool:
        """Send a file unless the hub has it; True if bytes were sent."""
        r = self.session.get(f"{self.base}/v1/uploads/{sha256}", timeout=self.timeout)
        self._authorised(r)
        if r.status_code == 200 and r.json().get("present"):
            return False
        with path.open("rb") as f:
            r = self.session.put(f"{self.base}/v1/uploads/{sha256}", data=f,
                                 timeout=self.timeout)
        self._authorised(r)
        if r.status_code >= 400:
            raise PublishRefused([f"upload {sha256}: HTTP {r.status_code}: {r.text[:300]}"])
        return True

    def publish(self, targets_bytes: bytes) -> dict[str, Any]:
        r = self.session.post(f"{self.base}/v1/publish", data=targets_bytes,
                              headers={"Content-Type": "application/json"},
                              timeout=self.timeout)
        self._authorised(r)
        if r.status_code >= 400:
            try:
                errors = r.json()["detail"]["errors"]
            except (ValueError, KeyError, TypeError):
                errors = [f"HTTP {r.status_code}: {r.text[:300]}"]
            raise PublishRefused(errors)
        data: dict[str, Any] = r.json()
        return data


def publish(content_dir: Path, config: Config, signers: Sequence[Signer], hub: HubClient,
            *, now: dt.datetime | None = None) -> tuple[Manifest, dict[str, Any]]:
    """Validate, sign and publish `content_dir` as the hub's next version.

    Raises:
        ContentError: invalid content (nothing was sent).
        PublishRefused: the hub refused (bad signature, version race, missing upload).
        requests.RequestException: the hub cannot be reached.
    """
    version = int(hub.status()["targets_version"]) + 1
    raw_dir = read_content_dir_filtered(content_dir)
    replies = replies_for_bundle(hub.replies(), raw_dir)
    with staged_content(content_dir, replies) as stage:
        pub = build_publication(stage, config, signers, version=version, now=now)
        for sha, path in pub.uploads.items():
            hub.upload(sha, path)
        return pub.manifest, hub.publish(pub.targets_bytes)


def read_content_dir_filtered(content_dir: Path) -> RawContent:
    """The publishable part of `content_dir`, read (for ticket/uid look-ups)."""
    with staged_content(content_dir, []) as stage:
        return read_content_dir(stage)
