"""The outbox against a real hub: at least once from the device, exactly once on the hub,
parked (not retried forever, not dropped) when the hub will never accept it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from content.db import unit_of_work
from content.hub.models import HubFeedback, HubSurvey
from content.models import (
    AuditEntry,
    Feedback,
    FeedbackKind,
    OutboxState,
    SurveyRating,
    SurveyResponse,
)
from content.sync.client import SyncStatus, make_session, read_state
from content.sync.outbox import relay
from tests.sync_support import (
    Device,
    Hub,
    content_mapping,
    device,
    publish_dir,
    respond,
    write_content,
)

SUBMITTED = dt.datetime(2026, 6, 10, 9, 30)


def submit(dev: Device, n: int, *, prefix: str = "k") -> None:
    """What the kiosk does: one committed row per submission, with its idempotency key."""
    with unit_of_work(dev.cache) as s:
        for i in range(n):
            s.add(Feedback(ticket=f"T{prefix}{i:04d}", idempotency_key=f"{prefix}-fb-{i}",
                           kind=FeedbackKind.QUESTION, topic="电梯", text=f"电梯何时修好？{i}",
                           contact_name="李阿姨", contact_phone="13800000000",
                           submitted_at=SUBMITTED, due_on=dt.date(2026, 6, 24)))
            s.add(SurveyResponse(idempotency_key=f"{prefix}-sv-{i}", survey="2026年度测评",
                                 rating=SurveyRating.SATISFIED, submitted_at=SUBMITTED))


def hub_counts(hub: Hub) -> tuple[int, int]:
    sessions = hub.board.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as s:
        return (s.scalar(select(func.count()).select_from(HubFeedback)) or 0,
                s.scalar(select(func.count()).select_from(HubSurvey)) or 0)


def states(dev: Device) -> dict[OutboxState, int]:
    with dev.cache.sessions() as s:
        rows = s.execute(select(Feedback.outbox_state, func.count())
                         .group_by(Feedback.outbox_state)).all()
    return {OutboxState(k): n for k, n in rows}


def test_relay_delivers_and_erases_contact_details(hub: Hub, dev: Device) -> None:
    submit(dev, 3)
    report = relay(dev.config, dev.cache, make_session(dev.config.sync))
    assert (report.acked, report.parked, report.pending) == (6, 0, 0)
    assert hub_counts(hub) == (3, 3)
    with dev.cache.sessions() as s:
        rows = list(s.scalars(select(Feedback)))
    assert all(r.outbox_state is OutboxState.ACKED for r in rows)
    assert all(r.contact_name is None and r.contact_phone is None for r in rows)
    sessions = hub.board.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as s:
        assert {r.contact_name for r in s.scalars(select(HubFeedback))} == {"李阿姨"}
    again = relay(dev.config, dev.cache, make_session(dev.config.sync))
    assert again.acked == 0 and hub_counts(hub) == (3, 3)


def _fail_before_commit(times: list[int]) -> Any:
    async def handler(scope: Any, receive: Any, send: Any, app: Any) -> None:
        if times[0] > 0:
            times[0] -= 1
            await respond(send, 503, b"down")
            return
        await app(scope, receive, send)
    return handler


def _fail_after_commit(times: list[int]) -> Any:
    async def handler(scope: Any, receive: Any, send: Any, app: Any) -> None:
        if times[0] > 0:
            times[0] -= 1

            async def swallow(message: dict[str, Any]) -> None:
                return None
            await app(scope, receive, swallow)  # the hub commits; the answer is lost
            await respond(send, 502, b"gateway lost the answer")
            return
        await app(scope, receive, send)
    return handler


def test_hub_failing_before_and_after_commit_stores_exactly_once(hub: Hub,
                                                                 dev: Device) -> None:
    submit(dev, 20)
    before, after = [7], [9]
    hub.board.overrides["/v1/feedback"] = _fail_after_commit(after)
    hub.board.overrides["/v1/surveys"] = _fail_before_commit(before)
    for rounds in range(1, 20):  # noqa: B007 - read after the loop
        report = relay(dev.config, dev.cache, make_session(dev.config.sync), force=True)
        if not report.pending:
            break
    assert rounds > 1  # the failures did make the relay come back
    assert hub_counts(hub) == (20, 20)  # exactly once, though sent more than once
    assert states(dev) == {OutboxState.ACKED: 20}
    with dev.cache.sessions() as s:
        assert s.scalar(select(func.count()).select_from(SurveyResponse).where(
            SurveyResponse.outbox_state == OutboxState.ACKED)) == 20


def test_conflicting_replay_and_invalid_payload_are_parked(tmp_path: Path, hub: Hub) -> None:
    with device(tmp_path, hub, "kiosk-a") as a, device(tmp_path, hub, "kiosk-b") as b:
        submit(a, 1)
        relay(a.config, a.cache, make_session(a.config.sync))
        submit(b, 1)  # same keys, different text: a bug elsewhere, never silently merged
        with unit_of_work(b.cache) as s:
            row = s.scalars(select(Feedback)).one()
            row.text = "另一条意见"
            s.add(Feedback(ticket="Tlong", idempotency_key="long-1",
                           kind=FeedbackKind.SUGGESTION, topic="x", text="长" * 6000,
                           submitted_at=SUBMITTED, due_on=dt.date(2026, 6, 24)))
        report = relay(b.config, b.cache, make_session(b.config.sync))
        assert report.parked == 2 and report.acked == 1  # the survey was identical: a replay
        assert any("409" in r for r in report.parked_reasons)
        assert any("422" in r for r in report.parked_reasons)
        assert states(b) == {OutboxState.PARKED: 2}
        with b.cache.sessions() as s:
            assert s.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "outbox-park")) == 2
            parked = s.scalars(select(Feedback).where(Feedback.ticket == "Tlong")).one()
            assert parked.text  # kept for staff, not dropped
        again = relay(b.config, b.cache, make_session(b.config.sync))
        assert again.parked == 0 and again.acked == 0  # not retried forever
    assert hub_counts(hub) == (1, 1)


def test_hub_unreachable_backs_off(tmp_path: Path, hub: Hub) -> None:
    with device(tmp_path, hub, "kiosk", hub_url="http://127.0.0.1:9", retries="0") as d:
        submit(d, 2)
        now = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)
        first = relay(d.config, d.cache, make_session(d.config.sync), clock=lambda: now)
        assert first.error and first.acked == 0
        with d.cache.sessions() as s:
            st = read_state(s)
        assert st["outbox_failures"] == "1" and st["outbox_next_attempt_at"] > "2026-06-10T12"
        soon = relay(d.config, d.cache, make_session(d.config.sync),
                     clock=lambda: now + dt.timedelta(seconds=1))
        assert soon.skipped_backoff
        assert states(d) == {OutboxState.PENDING: 2}  # nothing lost


def test_reply_reaches_the_kiosk_with_the_next_publication(tmp_path: Path, hub: Hub,
                                                           dev: Device) -> None:
    from content.cli import main

    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(1)))
    assert dev.sync().status is SyncStatus.UPDATED
    submit(dev, 1)
    relay(dev.config, dev.cache, make_session(dev.config.sync))
    hub_dir = str(hub.data_dir)
    assert main(["hub", "reply", "Tk0000", "下周一完成维修。", "--data-dir", hub_dir]) == 0
    assert main(["hub", "reply", "NOPE", "x", "--data-dir", hub_dir]) == 3
    publish_dir(hub, write_content(tmp_path / "c2", content_mapping(1)))
    assert dev.sync().status is SyncStatus.UPDATED
    with dev.cache.sessions() as s:
        row = s.scalars(select(Feedback).where(Feedback.ticket == "Tk0000")).one()
    assert row.reply_text == "下周一完成维修。" and row.contact_name is None


def test_cli_keys_publish_sync_status_and_stats(tmp_path: Path, hub: Hub,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from content.cli import main

    assert main(["keys", "init", str(tmp_path / "k2")]) == 0
    assert (tmp_path / "k2" / "offline" / "root-3.pem").stat().st_mode & 0o777 == 0o600
    assert main(["keys", "init", str(tmp_path / "k2")]) == 2  # never overwritten
    d = write_content(tmp_path / "c1", content_mapping(1))
    key = str(hub.keys.targets_key(1))
    assert main(["publish", str(d), "--key", key, "--check"]) == 0
    capsys.readouterr()
    assert main(["publish", str(d), "--key", key, "--hub", hub.url]) == 1  # no staff token
    assert "JUWU_HUB__STAFF_TOKEN" in capsys.readouterr().err
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUWU_HUB__STAFF_TOKEN", hub.config.hub.staff_token)
        assert main(["publish", str(d), "--key", key, "--hub", hub.url]) == 0
    base = ["--data-dir", str(tmp_path / "cli-device")]
    os_env = {"JUWU_SYNC__HUB_URL": hub.url, "JUWU_SYNC__TRUSTED_ROOT": str(hub.keys.root_json)}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in os_env.items():
            mp.setenv(k, v)
        assert main([*base, "sync"]) == 0
        assert main([*base, "sync"]) == 10
        capsys.readouterr()
        assert main([*base, "sync", "--status"]) == 0
        assert "version 1" in capsys.readouterr().out
        assert main([*base, "stats"]) == 0
        assert "同步：内容版本 1" in capsys.readouterr().out
    assert main(["hub", "inbox", "--data-dir", str(hub.data_dir)]) == 0
