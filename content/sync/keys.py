"""Key ceremony and signing helpers on the publishing side (TUF Metadata API).

Layout (docs/sync.md, "Keys"): root is offline with a threshold of 2 of 3; the targets key
belongs to the approvers and signs at `juwu publish` (the sign-off of shared/domain.md,
"How"), never on the hub; snapshot and timestamp keys live on the hub, online. A
compromised hub can therefore replay or withhold, which the device detects by version and
expiry, but cannot put unapproved text on a board.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.signer import CryptoSigner, Signer
from tuf.api.metadata import Metadata, Root
from tuf.api.serialization.json import JSONSerializer

ROOT_EXPIRY_DAYS = 365


class KeyFileError(ValueError):
    """A key file is missing, unreadable or not a key of the expected role."""


@dataclass(frozen=True)
class KeyLayout:
    """Where `juwu keys init DIR` puts each file, and who should take it away."""

    directory: Path

    @property
    def root_json(self) -> Path:  # → every device's install (the trust anchor) and the hub
        return self.directory / "root.json"

    def root_key(self, i: int) -> Path:  # → offline custodians, one each
        return self.directory / "offline" / f"root-{i}.pem"

    def targets_key(self, i: int) -> Path:  # → the approvers (签批人)
        return self.directory / "approvers" / f"targets-{i}.pem"

    @property
    def hub_dir(self) -> Path:  # → the hub's data directory (`juwu hub init --keys`)
        return self.directory / "hub"


def load_signer(path: Path) -> CryptoSigner:
    """A signer from a PEM (PKCS#8) private key file.

    Raises:
        KeyFileError: the file is missing or not a private key.
    """
    try:
        return CryptoSigner(load_pem_private_key(path.read_bytes(), None))
    except FileNotFoundError:
        raise KeyFileError(f"{path}: no such key file") from None
    except (ValueError, TypeError) as e:
        raise KeyFileError(f"{path}: not a PEM private key ({e})") from None


def write_private(path: Path, data: bytes) -> None:
    """Private key files are created 0600 and never overwritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _new_signer() -> CryptoSigner:
    return CryptoSigner(Ed25519PrivateKey.generate())


def init_keys(directory: Path, *, root_keys: int = 3, root_threshold: int = 2,
              targets_keys: int = 1, targets_threshold: int = 1,
              now: dt.datetime | None = None) -> KeyLayout:
    """Generate demo keys and a signed root.json (version 1, consistent snapshots).

    Raises:
        KeyFileError: the directory already holds files, or thresholds are impossible.
    """
    if root_threshold < 2 or root_threshold > root_keys:
        raise KeyFileError(f"root threshold {root_threshold} must be >= 2 and <= {root_keys}")
    if not 1 <= targets_threshold <= targets_keys:
        raise KeyFileError(f"targets threshold {targets_threshold} must be 1..{targets_keys}")
    if directory.exists() and any(directory.iterdir()):
        raise KeyFileError(f"{directory} is not empty; keys are never overwritten")
    layout = KeyLayout(directory)
    now = now or dt.datetime.now(dt.UTC)
    root = Root(expires=(now + dt.timedelta(days=ROOT_EXPIRY_DAYS)).replace(microsecond=0),
                consistent_snapshot=True)
    root_signers = [_new_signer() for _ in range(root_keys)]
    targets_signers = [_new_signer() for _ in range(targets_keys)]
    online = {"snapshot": _new_signer(), "timestamp": _new_signer()}
    for s in root_signers:
        root.add_key(s.public_key, Root.type)
    for s in targets_signers:
        root.add_key(s.public_key, "targets")
    for role, s in online.items():
        root.add_key(s.public_key, role)
    root.roles[Root.type].threshold = root_threshold
    root.roles["targets"].threshold = targets_threshold
    md = Metadata(root)
    for s in root_signers:
        md.sign(s, append=True)
    for i, s in enumerate(root_signers, 1):
        write_private(layout.root_key(i), s.private_bytes)
    for i, s in enumerate(targets_signers, 1):
        write_private(layout.targets_key(i), s.private_bytes)
    for role, s in online.items():
        write_private(layout.hub_dir / f"{role}.pem", s.private_bytes)
    data = md.to_bytes(JSONSerializer(compact=False))
    layout.root_json.write_bytes(data)
    (layout.hub_dir / "root.json").write_bytes(data)
    return layout


def sign_all(md: Metadata[Root], signers: list[Signer]) -> None:
    for s in signers:
        md.sign(s, append=True)
