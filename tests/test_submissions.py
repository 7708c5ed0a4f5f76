"""content.submissions against a real SQLite file: tickets, due dates, outbox, durability."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from content.config import Config
from content.db import Cache, open_cache, unit_of_work
from content.domain import FeedbackKind, OutboxState, SurveyRating
from content.errors import SubmissionError
from content.models import Feedback, SurveyResponse
from content.submissions import (
    current_survey_name,
    durable_unit_of_work,
    feedback_by_ticket,
    normalize_ticket,
    reply_state,
    submit_feedback,
    submit_survey,
    ticket_marks,
)
from content.ticket_marks import KEEP_DAYS, TicketMarks, parse_marks

NOW = dt.datetime(2026, 9, 28, 10, 30)  # Monday before the National Day holidays


def test_question_gets_ticket_due_date_and_pending_outbox(loaded: Cache, config: Config) -> None:
    r = submit_feedback(loaded, config, topic="财务", text="  维修费用  明细在哪里看？ ",
                        disclosure_uid="cw-2026-q1", now=NOW)
    assert r.ticket == "Q20260928-001"
    # 10 working days on the official calendar, across the National Day holidays.
    assert r.due_on == dt.date(2026, 10, 16)
    assert not r.due_is_estimate
    with unit_of_work(loaded) as s:
        fb = feedback_by_ticket(s, r.ticket)
        assert fb is not None
        assert fb.text == "维修费用 明细在哪里看？"
        assert fb.outbox_state is OutboxState.PENDING
        assert fb.contact_name is None and fb.contact_phone is None
        assert fb.disclosure is not None and fb.disclosure.uid == "cw-2026-q1"
        assert fb.idempotency_key == r.idempotency_key and len(r.idempotency_key) == 36
        assert fb.submitted_at == NOW


def test_due_date_matches_rules(loaded: Cache, config: Config) -> None:
    from content.rules import add_working_days

    r = submit_feedback(loaded, config, topic="其他", text="问题", now=NOW)
    assert r.due_on == add_working_days(NOW.date(), config.disclosure.reply_working_days).on


def test_tickets_count_up_per_day_and_restart_next_day(loaded: Cache, config: Config) -> None:
    a = submit_feedback(loaded, config, topic="t", text="一", now=NOW)
    b = submit_feedback(loaded, config, topic="t", text="二", now=NOW)
    c = submit_feedback(loaded, config, topic="t", text="三", now=NOW + dt.timedelta(days=1))
    assert (a.ticket, b.ticket, c.ticket) == ("Q20260928-001", "Q20260928-002", "Q20260929-001")


def test_numbering_continues_after_imported_tickets(loaded: Cache, config: Config) -> None:
    # The mini community already holds Q20260612-002 from the hub.
    r = submit_feedback(loaded, config, topic="t", text="x", now=dt.datetime(2026, 6, 12, 9))
    assert r.ticket == "Q20260612-003"


def test_kiosks_of_one_community_never_issue_the_same_ticket(loaded: Cache,
                                                            config: Config) -> None:
    import dataclasses

    second = dataclasses.replace(
        config, sync=dataclasses.replace(config.sync, device_number=2))
    a = submit_feedback(loaded, config, topic="t", text="一", now=NOW)
    b = submit_feedback(loaded, second, topic="t", text="二", now=NOW)
    c = submit_feedback(loaded, second, topic="t", text="三", now=NOW)
    d = submit_feedback(loaded, config, topic="t", text="四", now=NOW)
    assert (a.ticket, b.ticket, c.ticket, d.ticket) == (
        "Q20260928-001", "Q20260928-2001", "Q20260928-2002", "Q20260928-002")
    with unit_of_work(loaded) as s:  # residents can type either form back
        found = feedback_by_ticket(s, "q 20260928 2002")
        assert found is not None and found.text == "三"
    broken = dataclasses.replace(config, sync=dataclasses.replace(config.sync,
                                                                  device_number=12))
    with pytest.raises(ValueError, match="device_number must be 0-9"):
        submit_feedback(loaded, broken, topic="t", text="五", now=NOW)


def test_same_idempotency_key_returns_first_receipt(loaded: Cache, config: Config) -> None:
    a = submit_feedback(loaded, config, topic="t", text="x", now=NOW, idempotency_key="k-1")
    b = submit_feedback(loaded, config, topic="t", text="x", now=NOW, idempotency_key="k-1")
    assert a == b
    with unit_of_work(loaded) as s:
        assert len(s.scalars(select(Feedback).where(Feedback.idempotency_key == "k-1")).all()) == 1


def test_contact_kept_only_when_given(loaded: Cache, config: Config) -> None:
    r = submit_feedback(loaded, config, topic="t", text="x", contact_phone="138 0000 0001",
                        now=NOW)
    with unit_of_work(loaded) as s:
        fb = feedback_by_ticket(s, r.ticket)
        assert fb is not None and fb.contact_phone == "138 0000 0001"
        assert fb.contact_name is None


@pytest.mark.parametrize("kwargs", [
    {"text": "   "},
    {"topic": ""},
    {"text": "长" * 501},
    {"contact_phone": "call me"},
    {"disclosure_uid": "no-such-item"},
    {"kind": FeedbackKind.COMPLAINT},
])
def test_refused_submissions_store_nothing(loaded: Cache, config: Config,
                                           kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {"topic": "t", "text": "x", "now": NOW, **kwargs}
    with pytest.raises(SubmissionError):
        submit_feedback(loaded, config, **args)
    with unit_of_work(loaded) as s:
        assert s.scalars(select(Feedback).where(Feedback.submitted_at == NOW)).first() is None


def test_named_complaint_due_in_calendar_days(loaded: Cache, config: Config) -> None:
    r = submit_feedback(loaded, config, topic="t", text="x", kind=FeedbackKind.COMPLAINT,
                        contact_name="王大爷", now=NOW)
    assert r.due_on == NOW.date() + dt.timedelta(days=config.disclosure.named_complaint_days)


def test_commit_is_full_synchronous(cache: Cache) -> None:
    seen: list[int] = []
    with durable_unit_of_work(cache) as s:
        seen.append(s.connection().exec_driver_sql("PRAGMA synchronous").scalar_one())
    assert seen == [2]  # FULL
    with cache.engine.connect() as conn:  # the shared engine keeps NORMAL
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 1


def test_submission_survives_reopening_the_file(loaded: Cache, config: Config) -> None:
    r = submit_feedback(loaded, config, topic="t", text="断电前提交", now=NOW)
    loaded.close()
    again = open_cache(config.database_path)
    try:
        with unit_of_work(again) as s:
            fb = feedback_by_ticket(s, r.ticket.lower().replace("-", ""))
            assert fb is not None and fb.text == "断电前提交"
    finally:
        again.close()


def test_concurrent_submissions_get_distinct_tickets(loaded: Cache, config: Config) -> None:
    tickets: list[str] = []
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            tickets.append(submit_feedback(loaded, config, topic="t", text=f"并发{i}",
                                           now=NOW).ticket)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(tickets) == [f"Q20260928-{i:03d}" for i in range(1, 7)]


def test_failed_commit_reports_and_stores_nothing(loaded: Cache, config: Config,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from content import submissions
    from content.db import make_engine
    from content.errors import CacheError

    def failing_engine(path: Any, synchronous: str = "NORMAL") -> Any:
        engine = make_engine(path, synchronous=synchronous)

        @event.listens_for(engine, "commit")
        def _boom(conn: Any) -> None:
            conn.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")

        return engine

    monkeypatch.setattr(submissions, "make_engine", failing_engine)
    with pytest.raises(CacheError):
        submit_feedback(loaded, config, topic="t", text="x", now=NOW)
    with unit_of_work(loaded) as s:
        assert s.scalars(select(Feedback).where(Feedback.submitted_at == NOW)).first() is None


def test_survey_answer_goes_to_outbox(cache: Cache, config: Config) -> None:
    r = submit_survey(cache, config, rating=SurveyRating.BASIC, comment="  还行 ", now=NOW,
                      idempotency_key="s-1")
    again = submit_survey(cache, config, rating=SurveyRating.SATISFIED, now=NOW,
                          idempotency_key="s-1")
    assert r.survey == again.survey == "2026年下半年居务公开满意度测评"
    assert again.rating is SurveyRating.BASIC
    with unit_of_work(cache) as s:
        rows = s.scalars(select(SurveyResponse)).all()
        assert [(x.rating, x.comment, x.outbox_state) for x in rows] == [
            (SurveyRating.BASIC, "还行", OutboxState.PENDING)]


def test_ticket_lookup_and_reply_state(loaded: Cache) -> None:
    assert normalize_ticket("q20260601 001") == "Q20260601-001"
    assert normalize_ticket("hello") is None
    with unit_of_work(loaded) as s:
        answered = feedback_by_ticket(s, "Q20260601-001")
        waiting = feedback_by_ticket(s, "Q20260612-002")
        assert feedback_by_ticket(s, "Q20990101-001") is None
        assert feedback_by_ticket(s, "nonsense") is None
        assert answered is not None and waiting is not None
        assert reply_state(answered, dt.date(2026, 7, 1)) == "replied"
        assert reply_state(waiting, waiting.due_on) == "open"
        assert reply_state(waiting, waiting.due_on + dt.timedelta(days=1)) == "overdue"


def test_current_survey_name() -> None:
    assert current_survey_name(dt.date(2026, 3, 1)) == "2026年上半年居务公开满意度测评"


# --- ticket numbers after a restore (content.ticket_marks) --------------------------------


def test_restored_cache_continues_above_the_issued_numbers(loaded: Cache, config: Config,
                                                           tmp_path: Path) -> None:
    from content.backup import backup_database, restore_database

    assert submit_feedback(loaded, config, topic="t", text="一", now=NOW).ticket == \
        "Q20260928-001"
    saved = backup_database(config.database_path, tmp_path / "backups").database
    submit_feedback(loaded, config, topic="t", text="二", now=NOW)
    submit_feedback(loaded, config, topic="t", text="三", now=NOW)
    loaded.close()
    restore_database(saved, config.database_path)
    assert not list((tmp_path / "backups").glob("*tickets*"))  # never part of a backup
    restored = open_cache(config.database_path)
    try:
        with unit_of_work(restored) as s:
            assert feedback_by_ticket(s, "Q20260928-002") is None  # forgotten by the cache
        r = submit_feedback(restored, config, topic="t", text="恢复后", now=NOW)
        assert r.ticket == "Q20260928-004"  # not 002, which the hub may hold
        other_day = submit_feedback(restored, config, topic="t", text="次日",
                                    now=NOW + dt.timedelta(days=1))
        assert other_day.ticket == "Q20260929-001"
    finally:
        restored.close()
    assert ticket_marks(restored).read() == {"Q20260928-": 4, "Q20260929-": 1}


def test_marks_are_kept_per_kiosk_number(loaded: Cache, config: Config) -> None:
    import dataclasses

    second = dataclasses.replace(config, sync=dataclasses.replace(config.sync,
                                                                  device_number=2))
    submit_feedback(loaded, config, topic="t", text="一", now=NOW)
    submit_feedback(loaded, second, topic="t", text="二", now=NOW)
    assert ticket_marks(loaded).read() == {"Q20260928-": 1, "Q20260928-2": 1}


def test_damaged_or_unusable_marks_never_stop_a_submission(
        loaded: Cache, config: Config, caplog: pytest.LogCaptureFixture) -> None:
    marks = ticket_marks(loaded)
    marks.path.write_bytes(b'{"Q20260928-": "x", "Q20260928-": 1e9, \xff')
    assert submit_feedback(loaded, config, topic="t", text="一", now=NOW).ticket == \
        "Q20260928-001"
    assert marks.read() == {"Q20260928-": 1}  # rewritten whole
    marks.path.unlink()
    marks.path.mkdir()  # neither readable nor replaceable as a file
    with caplog.at_level(logging.WARNING, logger="content.ticket_marks"):
        r = submit_feedback(loaded, config, topic="t", text="二", now=NOW)
    assert r.ticket == "Q20260928-002"  # numbered from the cache alone
    assert "cannot record issued ticket Q20260928-002" in caplog.text


def test_marks_keep_the_newest_days(tmp_path: Path) -> None:
    marks = TicketMarks(tmp_path / "cache.tickets.json")
    start = dt.date(2026, 1, 1)
    for i in range(KEEP_DAYS * 10 + 5):
        marks.raise_to(f"Q{start + dt.timedelta(days=i):%Y%m%d}-", 3)
    marks.raise_to("Q20260101-", 9)  # an old day comes back: a clock set back
    kept = marks.read()
    assert len(kept) == KEEP_DAYS * 10
    assert f"Q{start + dt.timedelta(days=KEEP_DAYS * 10 + 4):%Y%m%d}-" in kept
    marks.raise_to("Q20260101-", 2)
    marks.raise_to("not a prefix", 5)
    assert marks.high("not a prefix") == 0


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.text(),
    st.dictionaries(st.text(max_size=12), st.one_of(
        st.integers(), st.booleans(), st.floats(), st.text(), st.none()), max_size=5)
    .map(json.dumps),
    st.dictionaries(st.from_regex(r"Q\d{8}-\d?", fullmatch=True),
                    st.integers(-5, 2000), max_size=5).map(json.dumps)))
def test_marks_file_parsing_never_fails_and_keeps_only_valid_entries(text: str) -> None:
    marks = parse_marks(text)
    for prefix, number in marks.items():
        assert re.fullmatch(r"Q\d{8}-\d?", prefix) and type(number) is int
        assert 0 < number <= 999


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 999))
def test_any_marks_file_gives_a_well_formed_next_number(data: bytes, number: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        marks = TicketMarks(Path(d) / "cache.tickets.json")
        marks.path.write_bytes(data)
        assert 0 <= marks.high("Q20260928-") <= 999
        marks.raise_to("Q20260928-", number)
        assert marks.high("Q20260928-") >= number
        assert normalize_ticket(f"Q20260928-{marks.high('Q20260928-'):03d}") is not None
