"""The hub on PostgreSQL (`hub.database_url`, a district's hub): the paths that matter run
against a real PostgreSQL server started for this module on 127.0.0.1.

Skipped, with the reason, where the PostgreSQL server binaries are missing; .ci/run
installs them, so CI runs these.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, func, select, text

from content.db import unit_of_work
from content.domain import FeedbackKind, SurveyRating
from content.hub.app import store_once
from content.hub.migrate import VERSION_TABLE, current_revision, head_revision
from content.hub.models import HubFeedback, HubSurvey
from content.models import Feedback, SurveyResponse
from content.sync.client import SyncStatus, make_session
from content.sync.outbox import relay
from tests.sync_support import (
    Hub,
    PostgresServer,
    content_mapping,
    device,
    postgres_server,
    postgres_unavailable,
    publish_dir,
    running_hub,
    write_content,
)

pytestmark = pytest.mark.skipif(postgres_unavailable() is not None,
                                reason=postgres_unavailable() or "")
SUBMITTED = dt.datetime(2026, 6, 10, 9, 30)


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture
def pg_url(pg: PostgresServer, request: pytest.FixtureRequest) -> str:
    return pg.create_database(f"hub_{request.node.name[:40].lower()}")


@pytest.fixture
def hub(tmp_path: Path, pg_url: str) -> Iterator[Hub]:
    with running_hub(tmp_path, {"JUWU_HUB__DATABASE_URL": pg_url}) as h:
        yield h


def sessions_of(hub: Hub) -> Any:
    return hub.board.app.state.sessions  # type: ignore[attr-defined]


def feedback(key: str = "k-1", ticket: str = "T0001",
             text_: str = "电梯何时修好？") -> dict[str, Any]:
    return {"idempotency_key": key, "ticket": ticket, "kind": "question", "topic": "电梯",
            "text": text_, "contact_name": "李阿姨", "contact_phone": "13800000000",
            "submitted_at": "2026-06-10T09:30:00+08:00"}


def test_hub_database_is_postgresql_and_migrated(hub: Hub, pg_url: str) -> None:
    engine = sessions_of(hub).kw["bind"]
    assert engine.dialect.name == "postgresql"
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        tables = set(conn.scalars(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")))
    assert tables == {"hub_feedback", "hub_survey", VERSION_TABLE}  # no create_all leftovers


def test_publish_sync_outbox_and_reply_on_postgresql(tmp_path: Path, hub: Hub,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """publish → device sync → resident's submission relayed → staff reply (CLI) → next
    publication carries the reply to the kiosk; the hub's rows live in PostgreSQL."""
    from content.cli import main

    publish_dir(hub, write_content(tmp_path / "c1", content_mapping(2)))
    with device(tmp_path, hub) as dev:
        first = dev.sync()
        assert first.status is SyncStatus.UPDATED and first.version == 1
        assert dev.sync().status is SyncStatus.UNCHANGED
        with unit_of_work(dev.cache) as s:
            s.add(Feedback(ticket="T0001", idempotency_key="fb-1", kind=FeedbackKind.QUESTION,
                           topic="电梯", text="电梯何时修好？", contact_name="李阿姨",
                           contact_phone="13800000000", submitted_at=SUBMITTED,
                           due_on=dt.date(2026, 6, 24)))
            s.add(SurveyResponse(idempotency_key="sv-1", survey="2026年度测评",
                                 rating=SurveyRating.SATISFIED, submitted_at=SUBMITTED))
        report = relay(dev.config, dev.cache, make_session(dev.config.sync))
        assert (report.acked, report.parked, report.pending) == (2, 0, 0)
        with sessions_of(hub)() as s:
            fb = s.scalars(select(HubFeedback)).one()
            assert fb.contact_phone == "13800000000" and fb.submitted_at == SUBMITTED
            assert s.scalar(select(func.count()).select_from(HubSurvey)) == 1

        monkeypatch.setenv("JUWU_HUB__DATABASE_URL", hub.config.hub.database_url)
        hub_dir = ["--data-dir", str(hub.data_dir)]
        capsys.readouterr()
        assert main(["hub", "inbox", "--json", *hub_dir]) == 0
        assert '"T0001"' in capsys.readouterr().out
        assert main(["hub", "reply", "T0001", "下周一完成维修。", "--by", "x" * 51,
                     *hub_dir]) == 2  # wider than the column: refused before the database
        assert main(["hub", "reply", "T0001", "下周一完成维修。", *hub_dir]) == 0
        assert main(["hub", "reply", "NOPE", "x", *hub_dir]) == 3
        token = {"Authorization": f"Bearer {hub.config.hub.staff_token}"}
        replies = requests.get(f"{hub.url}/v1/replies", headers=token, timeout=10).json()
        assert [(r["ticket"], r["reply_text"]) for r in replies] == [("T0001", "下周一完成维修。")]
        assert "contact_phone" not in replies[0]

        publish_dir(hub, write_content(tmp_path / "c2", content_mapping(2)))
        assert dev.sync().status is SyncStatus.UPDATED
        with dev.cache.sessions() as s:
            row = s.scalars(select(Feedback).where(Feedback.ticket == "T0001")).one()
        assert row.reply_text == "下周一完成维修。" and row.contact_name is None


def test_idempotent_submissions_on_postgresql(hub: Hub) -> None:
    u = f"{hub.url}/v1"
    first = requests.post(f"{u}/feedback", json=feedback(), timeout=10)
    assert first.status_code == 201 and first.json()["status"] == "stored"
    replay = requests.post(f"{u}/feedback", json=feedback(), timeout=10)
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    other = requests.post(f"{u}/feedback", json=feedback(text_="另一个问题"), timeout=10)
    assert other.status_code == 409
    same_ticket = requests.post(f"{u}/feedback", json=feedback(key="k-2"), timeout=10)
    assert same_ticket.status_code == 409  # the ticket is unique too
    survey = {"idempotency_key": "s-1", "survey": "2026年度测评", "rating": "basic",
              "submitted_at": "2026-06-10T09:30:00"}
    codes = [requests.post(f"{u}/surveys", json=body, timeout=10).status_code
             for body in (survey, survey, {**survey, "rating": "satisfied"})]
    assert codes == [201, 200, 409]
    with sessions_of(hub)() as s:
        assert s.scalar(select(func.count()).select_from(HubFeedback)) == 1
        assert s.scalars(select(HubFeedback.text)).one() == "电梯何时修好？"
        assert s.scalars(select(HubSurvey.rating)).one() == "basic"


def test_concurrent_duplicates_are_stored_once(hub: Hub) -> None:
    """Many copies of one submission at once (a relay retrying while its first request is
    still in flight, several kiosks' replays): one 201, the rest 200, one row; a copy with
    another payload under the same key is 409 whichever arrives first."""
    u = f"{hub.url}/v1/feedback"
    gate = threading.Barrier(16)

    def post(body: dict[str, Any]) -> int:
        gate.wait(10)
        return requests.post(u, json=body, timeout=30).status_code

    bodies = [feedback() for _ in range(12)] + [feedback(text_="改过的") for _ in range(4)]
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(post, bodies))
    with sessions_of(hub)() as s:
        rows = s.scalars(select(HubFeedback)).all()
    assert len(rows) == 1
    winner_is_original = rows[0].text == "电梯何时修好？"
    same, changed = codes[:12], codes[12:]
    if winner_is_original:
        assert sorted(same) == [200] * 11 + [201] and changed == [409] * 4
    else:
        assert same == [409] * 12 and sorted(changed) == [200] * 3 + [201]


def test_insert_race_on_the_unique_key_answers_duplicate(hub: Hub, pg_url: str) -> None:
    """The race store_once must survive: its SELECT finds nothing because another request's
    INSERT of the same key is not committed yet; its own INSERT then waits on the unique
    index and fails once the other commits; the retry answers 200 duplicate."""
    sessions = sessions_of(hub)
    row = HubFeedback(idempotency_key="race", payload_sha256="a" * 64, submitted_at=SUBMITTED,
                      received_at=SUBMITTED, ticket="TR", kind="question", topic="t", text="x")
    other = create_engine(pg_url)
    try:
        with other.connect() as conn, other.connect() as watch:
            watch.execution_options(isolation_level="AUTOCOMMIT")  # fresh stats per query
            conn.execute(text(
                "INSERT INTO hub_feedback (idempotency_key, payload_sha256, submitted_at, "
                "received_at, ticket, kind, topic, text) VALUES ('race', :sha, :t, :t, 'TR', "
                "'question', 't', 'x')"), {"sha": "a" * 64, "t": SUBMITTED})
            with ThreadPoolExecutor(1) as pool:
                result = pool.submit(store_once, sessions, row, "a" * 64)
                deadline = time.monotonic() + 20
                while not _waiting_on_a_lock(watch):  # the state to reach, not a delay
                    assert time.monotonic() < deadline, "store_once never blocked"
                    done, _ = wait([result], timeout=0.01)
                    assert not done, result.result()  # it must not finish before the commit
                conn.commit()
                code, stored = result.result(timeout=20)
    finally:
        other.dispose()
    assert (code, stored.status) == (200, "duplicate")
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(HubFeedback)) == 1


def _waiting_on_a_lock(conn: Any) -> bool:
    """Another backend of this database waits for a lock (store_once's INSERT)."""
    n = conn.execute(text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")).scalar_one()
    return bool(n)
