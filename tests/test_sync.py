"""Publish → serve → sync → apply against a real hub on 127.0.0.1, and every attack of
issue 4 mounted against it: each must be rejected, the old content kept, the reason kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select
from tuf.api.metadata import Metadata, TargetFile, Targets, Timestamp
from tuf.api.serialization.json import JSONSerializer

from content.db import unit_of_work
from content.importer import ContentError
from content.models import AuditEntry, Disclosure, Service, SyncState
from content.search import search
from content.sync.bundle import BundleError, FileRef, Manifest, parse_manifest, part_target
from content.sync.client import SyncStatus, read_state, write_state
from content.sync.keys import CryptoSigner, load_signer
from content.sync.publish import PublishRefused, publish
from tests.conftest import TODAY
from tests.sync_support import (
    MAP_URL,
    PUBLISH_ON,
    Device,
    Hub,
    content_mapping,
    device,
    publish_dir,
    respond,
    write_content,
)


def titles(dev: Device) -> set[str]:
    with dev.cache.sessions() as s:
        return set(s.scalars(select(Disclosure.title)))


def state(dev: Device) -> dict[str, str]:
    with dev.cache.sessions() as s:
        return read_state(s)


def v1_then_v2(tmp_path: Path, hub: Hub, dev: Device) -> set[str]:
    """v1 published and applied; v2 (one more item) published, not yet synced."""
    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(2)))
    assert dev.sync().status is SyncStatus.UPDATED
    before = titles(dev)
    publish_dir(hub, write_content(tmp_path / "c2", content_mapping(3)))
    return before


def assert_rejected(dev: Device, before: set[str], *reasons: str) -> None:
    outcome = dev.sync()
    assert outcome.status is SyncStatus.REJECTED, outcome
    assert outcome.reason in reasons, outcome
    assert outcome.exit_code == 12
    assert titles(dev) == before  # the last verified content is still what is shown
    st = state(dev)
    assert st["version"] == "1" and st["last_result"] == "rejected"
    assert st["last_error_kind"] == outcome.reason and st["last_error"]
    with dev.cache.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.action == "sync-reject")) >= 1


# --- the path that works ---------------------------------------------------------------


def test_publish_sync_search_and_no_change_poll(tmp_path: Path, hub: Hub, dev: Device) -> None:
    pdf = b"%PDF-1.4 plan " * 100
    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(2), attachment=pdf))
    first = dev.sync()
    assert first.status is SyncStatus.UPDATED and first.version == 1 and first.exit_code == 0
    with dev.cache.sessions() as s:
        assert search(s, "电梯", today=TODAY).total == 2
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.action == "sync-apply")) == 1
    sha = hashlib.sha256(pdf).hexdigest()
    assert (dev.config.blob_dir / sha[:2] / sha).read_bytes() == pdf
    with dev.cache.sessions() as s:  # a service's map link travels like its other fields
        assert s.scalars(select(Service.map_url)).one() == MAP_URL
    st = state(dev)
    assert st["version"] == "1" and st["last_result"] == "updated" and "last_error" not in st

    poll = dev.sync()
    assert poll.status is SyncStatus.UNCHANGED and poll.exit_code == 10
    assert (poll.requests, poll.body_bytes) == (1, 0)  # one conditional GET, a 304

    publish_dir(hub, write_content(tmp_path / "c2", content_mapping(3), attachment=pdf))
    second = dev.sync()
    assert second.status is SyncStatus.UPDATED and second.version == 2
    assert len(titles(dev)) == 3
    # Content-addressed: the unchanged attachment and TOML files were not fetched again.
    assert second.body_bytes < first.body_bytes


def test_hub_serves_304_range_and_openapi(hub: Hub, tmp_path: Path) -> None:
    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(1)))
    r = requests.get(f"{hub.url}/tuf/metadata/timestamp.json", timeout=5)
    etag = r.headers["ETag"]
    again = requests.get(f"{hub.url}/tuf/metadata/timestamp.json",
                         headers={"If-None-Match": etag}, timeout=5)
    assert again.status_code == 304 and again.content == b""
    bundle = next(p for p in (hub.repo_dir / "targets").glob("*.bundle.json"))
    url = f"{hub.url}/tuf/targets/{bundle.name}"
    part = requests.get(url, headers={"Range": "bytes=10-", "If-Range":
                                      f'"{bundle.name.split(".")[0]}"'}, timeout=5)
    assert part.status_code == 206 and part.content == bundle.read_bytes()[10:]
    spec = requests.get(f"{hub.url}/openapi.json", timeout=5).json()
    assert {"/v1/feedback", "/v1/publish", "/tuf/metadata/{name}"} <= set(spec["paths"])


def test_publish_refuses_invalid_content_with_every_error(tmp_path: Path, hub: Hub) -> None:
    mapping = content_mapping(2)
    mapping["disclosure"][0]["take_down_on"] = PUBLISH_ON + dt.timedelta(days=3)
    mapping["disclosure"][1]["sign_offs"] = mapping["disclosure"][1]["sign_offs"][:2]
    mapping["service"][0]["map_url"] = "javascript:alert(1)"
    with pytest.raises(ContentError) as e:
        publish_dir(hub, write_content(tmp_path / "bad", mapping))
    text = "\n".join(e.value.errors)
    assert "at least 10 days" in text and "missing the supervision" in text
    assert "map_url: 'javascript:alert(1)' is not an http:// or https:// link" in text
    assert hub.client().status()["targets_version"] == 0  # nothing was sent


def test_drafts_never_reach_a_device(tmp_path: Path, hub: Hub, dev: Device) -> None:
    d = write_content(tmp_path / "c1", content_mapping(1))
    (d / "drafts").mkdir()
    (d / "drafts" / "next.toml").write_text(
        'this = "is not even valid content"\n', encoding="utf-8")
    publish_dir(hub, d)
    assert dev.sync().status is SyncStatus.UPDATED
    assert not any("drafts" in p.name for p in (hub.repo_dir / "targets").rglob("*"))
    assert titles(dev) == {"电梯维修公示0"}


def test_hub_refuses_targets_not_signed_by_the_approvers(tmp_path: Path, hub: Hub) -> None:
    d = write_content(tmp_path / "c1", content_mapping(1))
    with pytest.raises(PublishRefused, match="not signed by the approvers"):
        publish(d, hub.config, [CryptoSigner.generate_ed25519()], hub.client())
    # The hub's own online key is not an approver either.
    with pytest.raises(PublishRefused):
        publish(d, hub.config, [load_signer(hub.data_dir / "keys" / "snapshot.pem")],
                hub.client())


# --- attacks ---------------------------------------------------------------------------


def test_tampered_target(tmp_path: Path, hub: Hub, dev: Device) -> None:
    before = v1_then_v2(tmp_path, hub, dev)
    for part in (hub.repo_dir / "targets" / "parts").glob("*.toml"):
        data = part.read_bytes()
        part.write_bytes(data.replace("电梯".encode(), "假的".encode()))
    # Every part of v2 is now different bytes under the same name; v1's are cached.
    assert_rejected(dev, before, "hash")


def _rewrite_timestamp(hub: Hub, change: Any) -> None:
    path = hub.repo_dir / "metadata" / "timestamp.json"
    obj = json.loads(path.read_bytes())
    change(obj)
    path.write_bytes(json.dumps(obj).encode())
    hub.repo.refresh_online = lambda now=None: False  # type: ignore[method-assign]


def test_bad_signature(tmp_path: Path, hub: Hub, dev: Device) -> None:
    before = v1_then_v2(tmp_path, hub, dev)

    def flip(obj: dict[str, Any]) -> None:
        sig = obj["signatures"][0]["sig"]
        obj["signatures"][0]["sig"] = ("0" if sig[0] != "0" else "1") + sig[1:]
    _rewrite_timestamp(hub, flip)
    assert_rejected(dev, before, "signature")


def test_missing_signature(tmp_path: Path, hub: Hub, dev: Device) -> None:
    before = v1_then_v2(tmp_path, hub, dev)
    _rewrite_timestamp(hub, lambda obj: obj.update(signatures=[]))
    assert_rejected(dev, before, "signature")


def test_compromised_hub_cannot_publish_unapproved_text(tmp_path: Path, hub: Hub,
                                                        dev: Device) -> None:
    """The hub holds snapshot and timestamp keys; with them it re-signs everything around
    a targets.json of its own. The device still refuses: targets needs the approvers."""
    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(2)))
    assert dev.sync().status is SyncStatus.UPDATED
    before = titles(dev)
    meta = hub.repo_dir / "metadata"
    forged = Metadata[Targets].from_bytes((meta / "1.targets.json").read_bytes())
    forged.signed.version = 2
    forged.signed.targets["bundle.json"] = TargetFile.from_data("bundle.json", b"{}",
                                                                ["sha256"])
    forged.signatures.clear()
    forged.sign(CryptoSigner.generate_ed25519())
    data = forged.to_bytes(JSONSerializer())
    (meta / "2.targets.json").write_bytes(data)
    hub.repo._sign_online(data, 2, dt.datetime.now(dt.UTC), new_snapshot=True)
    assert_rejected(dev, before, "signature")


def test_rollback_to_older_metadata(tmp_path: Path, hub: Hub, dev: Device) -> None:
    meta = hub.repo_dir / "metadata"
    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(2)))
    old_timestamp = (meta / "timestamp.json").read_bytes()
    assert dev.sync().status is SyncStatus.UPDATED
    publish_dir(hub, write_content(tmp_path / "c2", content_mapping(3)))
    assert dev.sync().status is SyncStatus.UPDATED
    before = titles(dev)
    (meta / "timestamp.json").write_bytes(old_timestamp)  # replay version 1
    hub.repo.refresh_online = lambda now=None: False  # type: ignore[method-assign]
    outcome = dev.sync()
    assert outcome.status is SyncStatus.REJECTED and outcome.reason == "version"
    assert titles(dev) == before and state(dev)["version"] == "2"


def test_frozen_metadata_past_expiry(tmp_path: Path, hub: Hub, dev: Device) -> None:
    before = v1_then_v2(tmp_path, hub, dev)
    hub.repo.refresh_online = lambda now=None: False  # type: ignore[method-assign]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)  # timestamp lasts 1 day
    dev.clock = lambda: later
    assert_rejected(dev, before, "expired")
    # Frozen by a hub that answers 304 forever: the local copy is checked too.
    dev.clock = None
    assert dev.sync().status is SyncStatus.UPDATED
    dev.clock = lambda: later
    outcome = dev.sync()
    assert outcome.status is SyncStatus.REJECTED and outcome.reason == "expired"
    # The 304 path verified the expiry of the copy it holds (ngclient then also asks for
    # the snapshot once, and refuses that too).
    assert outcome.requests <= 2


def test_mix_and_match_of_versions(tmp_path: Path, hub: Hub, dev: Device) -> None:
    before = v1_then_v2(tmp_path, hub, dev)
    meta = hub.repo_dir / "metadata"
    # The hub serves version 1's targets under version 2's name (snapshot says otherwise).
    (meta / "2.targets.json").write_bytes((meta / "1.targets.json").read_bytes())
    assert_rejected(dev, before, "hash", "version", "metadata")


def test_mix_and_match_snapshot(tmp_path: Path, hub: Hub, dev: Device) -> None:
    before = v1_then_v2(tmp_path, hub, dev)
    meta = hub.repo_dir / "metadata"
    versions = sorted(int(p.name.split(".")[0]) for p in meta.glob("*.snapshot.json"))
    (meta / f"{versions[-1]}.snapshot.json").write_bytes(
        (meta / f"{versions[0]}.snapshot.json").read_bytes())
    assert_rejected(dev, before, "hash", "version", "metadata")


def _endless(path: str) -> Any:
    async def handler(scope: Any, receive: Any, send: Any, app: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(2_000):  # 128 MB: far past every cap; the device hangs up first
            await send({"type": "http.response.body", "body": b"A" * 65536,
                        "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    return handler


def test_endless_data_for_a_target(tmp_path: Path, hub: Hub, dev: Device) -> None:
    before = v1_then_v2(tmp_path, hub, dev)
    bundle = max((hub.repo_dir / "targets").glob("*.bundle.json"),
                 key=lambda p: p.stat().st_mtime_ns)
    hub.board.overrides[f"/tuf/targets/{bundle.name}"] = _endless("bundle")
    assert_rejected(dev, before, "oversize")


def test_endless_data_for_timestamp(tmp_path: Path, hub: Hub, dev: Device) -> None:
    before = v1_then_v2(tmp_path, hub, dev)
    hub.board.overrides["/tuf/metadata/timestamp.json"] = _endless("timestamp")
    assert_rejected(dev, before, "oversize")


def test_oversize_metadata(tmp_path: Path, hub: Hub, dev: Device) -> None:
    before = v1_then_v2(tmp_path, hub, dev)
    big = json.dumps({"signed": {"_type": "timestamp", "pad": "x" * 100_000}}).encode()

    async def oversize(scope: Any, receive: Any, send: Any, app: Any) -> None:
        await respond(send, 200, big)
    hub.board.overrides["/tuf/metadata/timestamp.json"] = oversize
    assert_rejected(dev, before, "oversize")


def test_malformed_json(tmp_path: Path, hub: Hub, dev: Device) -> None:
    before = v1_then_v2(tmp_path, hub, dev)
    (hub.repo_dir / "metadata" / "timestamp.json").write_bytes(b'{"signed": {"_type": ')
    hub.repo.refresh_online = lambda now=None: False  # type: ignore[method-assign]
    assert_rejected(dev, before, "metadata")


@pytest.mark.parametrize("bad_path", ["../../evil.toml", "/etc/evil.toml",
                                      "disclosures/../../evil.toml", "a\\..\\evil.toml"])
def test_path_traversal_in_a_signed_bundle(tmp_path: Path, hub: Hub, dev: Device,
                                           bad_path: str) -> None:
    """Even with the approvers' own signature, a bundle naming a path outside the content
    directory is refused before anything is written."""
    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(2)))
    assert dev.sync().status is SyncStatus.UPDATED
    before = titles(dev)
    toml = b'[[service]]\nuid = "evil"\nname = "x"\nkind = "other"\n'
    sha = hashlib.sha256(toml).hexdigest()
    manifest = json.dumps({"format": 1, "version": 2, "published_at": "2026-06-01T00:00:00Z",
                           "files": [{"path": bad_path, "sha256": sha, "length": len(toml)}],
                           "attachments": []}).encode()
    client = hub.client()
    for data in (toml, manifest):
        p = tmp_path / hashlib.sha256(data).hexdigest()
        p.write_bytes(data)
        client.upload(p.name, p)
    t = Targets(version=2, expires=dt.datetime.now(dt.UTC).replace(microsecond=0)
                + dt.timedelta(days=30))
    t.targets["bundle.json"] = TargetFile.from_data("bundle.json", manifest, ["sha256"])
    t.targets[part_target(sha)] = TargetFile.from_data(part_target(sha), toml, ["sha256"])
    md = Metadata(t)
    md.sign(load_signer(hub.keys.targets_key(1)))
    client.publish(md.to_bytes(JSONSerializer()))
    assert_rejected(dev, before, "bundle")
    assert not (tmp_path / "evil.toml").exists()
    assert not list(tmp_path.rglob("evil.toml"))


def test_hub_refuses_target_names_outside_the_protocol(tmp_path: Path, hub: Hub) -> None:
    t = Targets(version=1, expires=dt.datetime.now(dt.UTC).replace(microsecond=0)
                + dt.timedelta(days=30))
    for name in ("../etc/passwd", "/abs/path", "parts/../../x.toml"):
        t.targets[name] = TargetFile.from_data(name, b"x", ["sha256"])
    md = Metadata(t)
    md.sign(load_signer(hub.keys.targets_key(1)))
    with pytest.raises(PublishRefused) as e:
        hub.client().publish(md.to_bytes(JSONSerializer()))
    assert sum("not one this protocol uses" in x for x in e.value.errors) == 3


def test_manifest_parser_caps_and_names() -> None:
    ok = Manifest(1, dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
                  (FileRef("community.toml", "a" * 64, 3),), ())
    assert parse_manifest(ok.to_bytes(), max_bytes=10_000, max_files=10) == ok
    with pytest.raises(BundleError, match="limit"):
        parse_manifest(ok.to_bytes(), max_bytes=10, max_files=10)
    for junk in (b"", b"[]", b"\xff", b'{"format": 1}'):
        with pytest.raises(BundleError):
            parse_manifest(junk, max_bytes=10_000, max_files=10)
    dup = json.loads(ok.to_bytes())
    dup["files"].append({"path": "COMMUNITY.toml", "sha256": "b" * 64, "length": 1})
    with pytest.raises(BundleError, match="collides"):
        parse_manifest(json.dumps(dup).encode(), max_bytes=10_000, max_files=10)


def test_bundle_with_invalid_content_is_refused_on_the_device(tmp_path: Path, hub: Hub,
                                                              dev: Device) -> None:
    """A published item changed in place (instead of a correction) is refused whole."""
    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(2)))
    assert dev.sync().status is SyncStatus.UPDATED
    before = titles(dev)
    publish_dir(hub, write_content(tmp_path / "c2", content_mapping(2, extra_title="改")))
    assert_rejected(dev, before, "content")


# --- the device clock --------------------------------------------------------------------


def test_clock_behind_does_not_brick_and_keeps_the_floor(tmp_path: Path, hub: Hub,
                                                         dev: Device) -> None:
    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(2)))
    assert dev.sync().status is SyncStatus.UPDATED
    floor = state(dev)["time_floor"]
    y2k = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # RTC battery dead
    publish_dir(hub, write_content(tmp_path / "c2", content_mapping(3)))
    outcome = dev.sync(clock=lambda: y2k)
    assert outcome.status is SyncStatus.UPDATED  # updates still flow
    st = state(dev)
    assert "behind the last trusted time" in st["clock_warning"]
    assert st["time_floor"] >= floor
    # Freeze protection is not switched off by the reset: metadata that expired before the
    # last trusted time is refused although the clock says 2000.
    ts = Metadata[Timestamp].from_bytes(
        (hub.repo_dir / "metadata" / "timestamp.json").read_bytes())
    ts.signed.version += 1
    ts.signed.expires = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    ts.signatures.clear()
    ts.sign(load_signer(hub.data_dir / "keys" / "timestamp.pem"))
    (hub.repo_dir / "metadata" / "timestamp.json").write_bytes(ts.to_bytes(JSONSerializer()))
    hub.repo.refresh_online = lambda now=None: False  # type: ignore[method-assign]
    outcome = dev.sync(clock=lambda: y2k)
    assert outcome.status is SyncStatus.REJECTED and outcome.reason == "expired"


def test_clock_ahead_is_refused_with_a_diagnosis_and_recovers(tmp_path: Path, hub: Hub,
                                                              dev: Device) -> None:
    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(2)))
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    outcome = dev.sync(clock=lambda: ahead)
    assert outcome.status is SyncStatus.REJECTED and outcome.reason == "expired"
    assert "device clock is wrong" in outcome.message
    assert titles(dev) == set()
    # The floor did not move with the wrong clock: once NTP fixes it, sync works.
    assert "time_floor" not in state(dev)
    assert dev.sync().status is SyncStatus.UPDATED


def _when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def test_approver_clock_ahead_does_not_stop_later_syncs(tmp_path: Path, hub: Hub,
                                                        dev: Device) -> None:
    """A publication signed on a machine 30 days fast is applied, but its date does not
    become the device's last trusted time: the hub's timestamp vouches only for now."""
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    publish(write_content(tmp_path / "c1", content_mapping(2)), hub.config,
            [load_signer(hub.keys.targets_key(1))], hub.client(), now=ahead)
    assert dev.sync().status is SyncStatus.UPDATED
    assert _when(state(dev)["published_at"]) > ahead - dt.timedelta(minutes=1)
    # The next publication, from a machine with the right clock, reaches the device.
    publish_dir(hub, write_content(tmp_path / "c2", content_mapping(3)))
    outcome = dev.sync()
    assert outcome.status is SyncStatus.UPDATED and outcome.version == 2, outcome
    assert len(titles(dev)) == 3
    assert dev.sync().status is SyncStatus.UNCHANGED
    st = state(dev)
    assert _when(st["time_floor"]) < dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    assert "clock_warning" not in st  # the device's clock was right all along


def test_a_device_left_with_a_future_floor_recovers(tmp_path: Path, hub: Hub,
                                                    dev: Device) -> None:
    """What juwu before the fix left on devices after such a publication: the last trusted
    time 30 days ahead, past the expiry of every timestamp the device trusts. The next sync
    pulls it back to the hub's signing time by itself, and says so in the audit log."""
    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(2)))
    assert dev.sync().status is SyncStatus.UPDATED
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with unit_of_work(dev.cache) as s:
        write_state(s, {"time_floor": future, "published_at": future})
    poll = dev.sync()
    assert poll.status is SyncStatus.UNCHANGED, poll
    st = state(dev)
    assert _when(st["time_floor"]) < dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    assert "clock_warning" not in st
    with dev.cache.sessions() as s:
        reset = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "sync-floor-reset")).one()
    assert reset.detail["from"] == future
    publish_dir(hub, write_content(tmp_path / "c2", content_mapping(3)))
    assert dev.sync().status is SyncStatus.UPDATED
    assert len(titles(dev)) == 3


def test_sync_not_configured(tmp_path: Path, hub: Hub) -> None:
    with device(tmp_path, hub, "other", hub_url="") as d:
        assert d.sync().status is SyncStatus.NOT_CONFIGURED
    with device(tmp_path, hub, "third", trusted_root=str(tmp_path / "none.json")) as d:
        outcome = d.sync()
        assert outcome.status is SyncStatus.NOT_CONFIGURED and "trusted root" in outcome.message


def test_hub_down_is_unreachable_and_keeps_content(tmp_path: Path, hub: Hub,
                                                   dev: Device) -> None:
    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(2)))
    assert dev.sync().status is SyncStatus.UPDATED

    async def down(scope: Any, receive: Any, send: Any, app: Any) -> None:
        await respond(send, 503, b"maintenance", [(b"retry-after", b"0")])
    hub.board.overrides["/tuf/metadata/timestamp.json"] = down
    outcome = dev.sync()
    assert outcome.status is SyncStatus.UNREACHABLE and outcome.exit_code == 11
    assert outcome.requests == 1 and hub.board.seen.count("/tuf/metadata/timestamp.json") >= 4
    assert len(titles(dev)) == 2
    assert state(dev)["last_error_kind"] == "http"
    with dev.cache.sessions() as s:
        assert s.get(SyncState, "last_success_at") is not None


def test_download_broken_mid_body_resumes_with_range(tmp_path: Path, hub: Hub,
                                                     dev: Device) -> None:
    big = bytes(range(256)) * 4000  # ~1 MB attachment
    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(1), attachment=big))
    sha = hashlib.sha256(big).hexdigest()
    path = f"/tuf/targets/blobs/{sha}.{sha}"
    ranges: list[str] = []
    broken = [1]

    async def cut(scope: Any, receive: Any, send: Any, app: Any) -> None:
        headers = dict(scope["headers"])
        if b"range" in headers:
            ranges.append(headers[b"range"].decode())
        if broken[0]:
            broken[0] -= 1
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-length", str(len(big)).encode()), (b"accept-ranges", b"bytes"),
                (b"etag", f'"{sha}"'.encode())]})
            await send({"type": "http.response.body", "body": big[:300_000],
                        "more_body": True})
            raise RuntimeError("connection lost")  # uvicorn drops the connection
        await app(scope, receive, send)
    hub.board.overrides[path] = cut
    assert dev.sync().status is SyncStatus.UPDATED
    assert ranges and ranges[0].startswith("bytes=") and ranges[0] != "bytes=0-"
    assert (dev.config.blob_dir / sha[:2] / sha).read_bytes() == big
