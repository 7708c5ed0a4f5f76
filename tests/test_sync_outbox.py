"""The outbox against a real hub: at least once from the device, exactly once on the hub,
parked (not retried forever, not dropped) when the hub will never accept it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from content.db import unit_of_work
from content.domain import FeedbackKind, OutboxState, SurveyRating
from content.hub.models import HubFeedback, HubSurvey
from content.models import AuditEntry, Feedback, SurveyResponse
from content.sync.client import SyncStatus, make_session, read_state
from content.sync.outbox import relay
from content.sync.outbox_admin import parse_park_reason
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


# --- `juwu outbox list|retry`, the `juwu sync` output, tickets after a restore ------------


def _nginx(status: int) -> Any:
    """What a misconfigured proxy answers, whatever the submission."""
    body = (f"<html>\r\n<head><title>{status} Not Found</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} Not Found</h1></center>\r\n<hr><center>nginx</center>"
            "\r\n</body>\r\n</html>\r\n").encode()

    async def handler(scope: Any, receive: Any, send: Any, app: Any) -> None:
        await respond(send, status, body, [(b"content-type", b"text/html")])
    return handler


def juwu(dev: Device, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`juwu --data-dir <device> ARGS…` in this process, with the device's sync settings."""
    from content.cli import main

    env = {"JUWU_SYNC__HUB_URL": dev.config.sync.hub_url,
           "JUWU_SYNC__TRUSTED_ROOT": dev.config.sync.trusted_root,
           "JUWU_SYNC__BACKOFF_FACTOR_S": "0", "JUWU_SYNC__BACKOFF_JITTER_S": "0",
           "JUWU_SYNC__RETRIES": "0"}
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        code = main(["--data-dir", str(dev.config.data_dir), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_outbox_list_shows_parked_with_status_and_waiting_with_next_attempt(
        hub: Hub, dev: Device, capsys: pytest.CaptureFixture[str]) -> None:
    submit(dev, 2)
    hub.board.overrides["/v1/feedback"] = _nginx(404)  # nginx lacks the location
    hub.board.overrides["/v1/surveys"] = _fail_before_commit([99])  # the hub is down
    now = dt.datetime.now(dt.UTC)
    report = relay(dev.config, dev.cache, make_session(dev.config.sync), clock=lambda: now)
    assert report.parked == 2 and report.error and report.next_attempt_at is not None
    code, out, _ = juwu(dev, "outbox", "list", "--json", capsys=capsys)
    assert code == 0
    data = json.loads(out)
    assert data["summary"]["parked"] == 2 and data["summary"]["to_send"] == 2
    assert data["summary"]["next_attempt_at"] == report.next_attempt_at.strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    rows = {r["ref"]: r for r in data["rows"]}
    assert [r["state"] for r in data["rows"]] == ["parked", "parked", "waiting", "waiting"]
    assert rows["Tk0000"]["http_status"] == 404 and "nginx" in rows["Tk0000"]["reason"]
    assert not rows["Tk0000"]["ticket_clash"] and rows["Tk0000"]["parked_at"].endswith("Z")
    assert rows["Tk0000"]["what"] == "电梯: 电梯何时修好？0"
    waiting = [r for r in data["rows"] if r["state"] == "waiting"]
    assert {r["kind"] for r in waiting} == {"survey"}
    assert all(r["next_attempt_at"] == data["summary"]["next_attempt_at"] for r in waiting)
    assert "13800000000" not in out and "李阿姨" not in out  # no contact details
    code, text, _ = juwu(dev, "outbox", "list", capsys=capsys)
    assert code == 0
    assert "outbox: 2 to send, 2 parked; the relay waits until" in text
    assert "parked   Tk0000" in text and "HTTP 404: <html> <head><title>404" in text
    assert "juwu outbox retry" in text


def test_retry_after_fixing_nginx_sends_the_parked_rows(
        hub: Hub, dev: Device, capsys: pytest.CaptureFixture[str]) -> None:
    submit(dev, 3)
    hub.board.overrides["/v1/feedback"] = _nginx(403)
    hub.board.overrides["/v1/surveys"] = _nginx(404)
    relay(dev.config, dev.cache, make_session(dev.config.sync))
    assert states(dev) == {OutboxState.PARKED: 3}
    # One rating failed later with a 5xx: the relay now backs off for a while.
    with unit_of_work(dev.cache) as s:
        s.add(SurveyResponse(idempotency_key="late-sv", survey="2026年度测评",
                             rating=SurveyRating.BASIC, submitted_at=SUBMITTED))
    hub.board.overrides["/v1/surveys"] = _fail_before_commit([99])
    assert relay(dev.config, dev.cache, make_session(dev.config.sync)).error
    hub.board.overrides.clear()  # nginx fixed, hub back

    code, _, err = juwu(dev, "outbox", "retry", "Tk0000", "no-such-row", capsys=capsys)
    assert code == 3 and "no-such-row" in err and "nothing was changed" in err
    assert states(dev) == {OutboxState.PARKED: 3}
    code, _, _ = juwu(dev, "outbox", "retry", "q tk0000", capsys=capsys)
    assert code == 3  # a ticket of another format is taken as typed
    code, out, _ = juwu(dev, "outbox", "retry", "Tk0000", "k-sv-1", "survey-1", "--json",
                        capsys=capsys)
    assert code == 0
    assert [(r["ref"], r["outcome"]) for r in json.loads(out)] == [
        ("Tk0000", "queued"), ("survey-2", "queued"), ("survey-1", "queued")]
    assert json.loads(out)[0]["reason_was"].startswith("HTTP 403: <html>")
    code, out, _ = juwu(dev, "outbox", "retry", "--all-parked", capsys=capsys)
    assert code == 0
    assert "Tk0001: queued again (was HTTP 403: <html>" in out and "3 queued again" in out
    code, out, _ = juwu(dev, "outbox", "retry", "Tk0000", "survey-4", capsys=capsys)
    assert code == 0 and "Tk0000: not parked; already waiting to be sent" in out
    assert "survey-4: not parked; already waiting" in out
    code, _, _ = juwu(dev, "outbox", "retry", capsys=capsys)
    assert code == 2  # name rows or --all-parked

    # The retry lifted the backoff: a plain relay (not forced) sends everything now.
    report = relay(dev.config, dev.cache, make_session(dev.config.sync))
    assert not report.skipped_backoff and report.acked == 7 and report.pending == 0
    assert hub_counts(hub) == (3, 4)
    code, out, _ = juwu(dev, "outbox", "retry", "survey-1", capsys=capsys)
    assert code == 0 and "survey-1: not parked; already on the hub" in out
    code, out, _ = juwu(dev, "outbox", "list", capsys=capsys)
    assert code == 0 and out.startswith("outbox empty")
    with dev.cache.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "outbox-retry")) == 6


def test_sync_says_how_many_wait_while_the_relay_backs_off(
        tmp_path: Path, hub: Hub, dev: Device, capsys: pytest.CaptureFixture[str]) -> None:
    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(1)))
    submit(dev, 2)
    hub.board.overrides["/v1/feedback"] = _fail_before_commit([99])
    code, out, _ = juwu(dev, "sync", capsys=capsys)
    assert code == 0
    assert "outbox: 0 sent, 0 parked, 4 pending (hub answered HTTP 503; next attempt " \
           "after 20" in out
    code, out, _ = juwu(dev, "sync", capsys=capsys)
    assert code == 10
    assert "outbox: 4 pending, not sent: waiting after a failed relay until 20" in out
    code, out, _ = juwu(dev, "sync", "--json", capsys=capsys)
    o = json.loads(out)["outbox"]
    assert o["waiting"] and o["pending"] == 4 and o["next_attempt_at"].endswith("Z")


def test_sync_prints_each_failure_once(tmp_path: Path, hub: Hub) -> None:
    """A real process: without a logging handler Python printed the client's log line too."""
    from tests.test_cli import run

    env = {"JUWU_SYNC__HUB_URL": hub.url, "JUWU_SYNC__TRUSTED_ROOT": str(hub.keys.root_json),
           "JUWU_SYNC__RETRIES": "0"}
    result = run(tmp_path / "cli-device", "sync", env=env)  # nothing published yet
    assert result.returncode == 11
    both = result.stdout + result.stderr
    assert both.count("timestamp.json: HTTP 404") == 1, both
    assert "sync unreachable: hub answered:" in result.stderr
    down = run(tmp_path / "cli-device", "sync",
               env=env | {"JUWU_SYNC__HUB_URL": "http://127.0.0.1:9"})
    assert down.returncode == 11
    both = down.stdout + down.stderr
    assert both.count("Connection refused") == 1, both


def test_restored_cache_does_not_reissue_a_ticket_the_hub_has(
        hub: Hub, dev: Device, capsys: pytest.CaptureFixture[str]) -> None:
    """`juwu backup`, more questions reach the hub, `juwu restore`: the next question must
    not get a number the hub already holds (it did: 409, parked)."""
    from content.submissions import feedback_by_ticket, submit_feedback

    day = dt.datetime(2026, 6, 15, 9)
    for i in range(2):
        submit_feedback(dev.cache, dev.config, topic="t", text=f"备份前{i}", now=day)
    code, out, _ = juwu(dev, "backup", "--json", capsys=capsys)
    assert code == 0
    backup = json.loads(out)["database"]
    for i in range(2):
        submit_feedback(dev.cache, dev.config, topic="t", text=f"备份后{i}", now=day)
    assert relay(dev.config, dev.cache, make_session(dev.config.sync)).acked == 4
    dev.cache.close()  # the kiosk is stopped for a restore
    code, _, _ = juwu(dev, "restore", backup, capsys=capsys)
    assert code == 0
    with dev.cache.sessions() as s:  # the restored cache knows only the first two
        assert feedback_by_ticket(s, "Q20260615-003") is None
    receipt = submit_feedback(dev.cache, dev.config, topic="t", text="恢复后", now=day)
    assert receipt.ticket == "Q20260615-005"
    report = relay(dev.config, dev.cache, make_session(dev.config.sync))
    assert (report.acked, report.parked) == (3, 0)  # two replays of 001/002, the new one
    assert hub_counts(hub) == (5, 0)
    with dev.cache.sessions() as s:
        found = feedback_by_ticket(s, "Q20260615005")
        assert found is not None and found.text == "恢复后"


def test_ticket_clash_is_renumbered_by_retry(
        hub: Hub, dev: Device, capsys: pytest.CaptureFixture[str]) -> None:
    """The marks are gone too (a kiosk rebuilt on a new SD card from a backup): the clash
    happens, and `juwu outbox retry` gives the question the next free number."""
    from content.submissions import feedback_by_ticket, submit_feedback, ticket_marks

    day = dt.datetime(2026, 6, 15, 9)
    submit_feedback(dev.cache, dev.config, topic="t", text="一", now=day)
    code, out, _ = juwu(dev, "backup", "--json", capsys=capsys)
    assert code == 0
    backup = json.loads(out)["database"]
    submit_feedback(dev.cache, dev.config, topic="t", text="二", now=day)
    relay(dev.config, dev.cache, make_session(dev.config.sync))
    dev.cache.close()
    assert juwu(dev, "restore", backup, capsys=capsys)[0] == 0
    ticket_marks(dev.cache).path.unlink()
    clashing = submit_feedback(dev.cache, dev.config, topic="物业", text="新的问题",
                               contact_phone="13900000000", now=day)
    assert clashing.ticket == "Q20260615-002"
    assert relay(dev.config, dev.cache, make_session(dev.config.sync)).parked == 1
    code, out, _ = juwu(dev, "outbox", "list", "--json", capsys=capsys)
    (row,) = json.loads(out)["rows"]
    assert (row["ref"], row["http_status"], row["ticket_clash"]) == (
        "Q20260615-002", 409, True)
    code, out, _ = juwu(dev, "outbox", "list", capsys=capsys)
    assert "the hub already has this ticket number for another question" in out

    code, out, _ = juwu(dev, "outbox", "retry", "Q20260615-002", capsys=capsys)
    assert code == 0
    assert "Q20260615-002 → Q20260615-003: the hub already has Q20260615-002" in out
    with dev.cache.sessions() as s:
        moved = feedback_by_ticket(s, "Q20260615-003")  # the kiosk's Answers finds it
        assert moved is not None and moved.text == "新的问题"
        assert moved.idempotency_key == clashing.idempotency_key
        assert feedback_by_ticket(s, "Q20260615-002") is None
        entry = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "outbox-renumber")).one()
        assert entry.detail == {"from": "Q20260615-002", "to": "Q20260615-003"}
    assert ticket_marks(dev.cache).high("Q20260615-") == 3
    assert relay(dev.config, dev.cache, make_session(dev.config.sync)).acked == 1
    sessions = hub.board.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as s:
        on_hub = s.scalars(select(HubFeedback).where(
            HubFeedback.ticket == "Q20260615-003")).one()
        assert on_hub.text == "新的问题" and on_hub.contact_phone == "13900000000"
    # The next resident gets the number after it, not one the hub has.
    assert submit_feedback(dev.cache, dev.config, topic="t", text="三",
                           now=day).ticket == "Q20260615-004"


def test_a_reused_key_is_not_renumbered(tmp_path: Path, hub: Hub,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    with device(tmp_path, hub, "kiosk-a") as a, device(tmp_path, hub, "kiosk-b") as b:
        submit(a, 1)
        relay(a.config, a.cache, make_session(a.config.sync))
        submit(b, 1)
        with unit_of_work(b.cache) as s:
            s.scalars(select(Feedback)).one().text = "另一条意见"
        relay(b.config, b.cache, make_session(b.config.sync))
        code, out, _ = juwu(b, "outbox", "list", "--json", capsys=capsys)
        (row,) = json.loads(out)["rows"]
        assert row["http_status"] == 409 and not row["ticket_clash"]
        code, out, _ = juwu(b, "outbox", "retry", "--all-parked", "--json", capsys=capsys)
        assert code == 0
        assert json.loads(out) == [{"ref": "Tk0000", "kind": "feedback", "outcome": "queued",
                                    "old_ticket": None, "reason_was": row["reason"]}]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.none(), st.integers(),
                 st.builds(lambda c, t: f"HTTP {c}: {t}", st.integers(100, 599), st.text())),
       st.sampled_from(["feedback", "survey"]), st.text(max_size=64))
def test_park_reasons_are_read_whatever_the_hub_answered(reason: object, kind: Any,
                                                         key: str) -> None:
    parsed = parse_park_reason(reason, kind, key)
    assert parsed.http_status is None or 100 <= parsed.http_status <= 599
    if parsed.ticket_clash:
        assert kind == "feedback" and parsed.http_status == 409


def test_park_reasons_of_the_hub() -> None:
    clash = 'HTTP 409: {"detail":"submission \'k-ticket\' conflicts with a stored one (ticket?)"}'
    reused = ('HTTP 409: {"detail":"idempotency key \'ticket-1\' was used for another '
              'submission"}')
    assert parse_park_reason(clash, "feedback", "k-ticket").ticket_clash
    assert not parse_park_reason(clash, "survey", "k-ticket").ticket_clash
    assert not parse_park_reason(reused, "feedback", "ticket-1").ticket_clash
    assert parse_park_reason("HTTP 404: <html>", "feedback", "k").http_status == 404
    assert parse_park_reason({"not": "text"}, "feedback", "k").http_status is None
