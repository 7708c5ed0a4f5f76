"""What a resident hands in at the kiosk: a question (意见箱) or a satisfaction rating (测评).

Each submission is one transaction, committed with ``PRAGMA synchronous = FULL`` before the
kiosk tells the resident "received": a power cut after the screen shows a ticket number must
not lose the question (the cache otherwise runs WAL with ``synchronous = NORMAL``, which may
drop the last commits). Rows start in the outbox as ``PENDING``; sending them to the hub is the
sync relay's job, not this module's.

Personal data is stored only when the resident chose to give it. A repeated submission with
the same ``idempotency_key`` (a double tap, a retry after an error) returns the first receipt
instead of creating a second row.

A ticket number is never handed out twice by one kiosk, even after its cache is restored
from a backup: numbering also starts above the marks kept beside the cache file, which a
restore does not roll back (content.ticket_marks).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy import text as sql
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from content.config import Config, local_now
from content.db import Cache, make_engine
from content.domain import FeedbackKind, OutboxState, SurveyRating
from content.errors import CacheError, SubmissionError
from content.models import Disclosure, Feedback, SurveyResponse
from content.rules import reply_due
from content.ticket_marks import TicketMarks

MAX_TEXT_CHARS = 500
MAX_TOPIC_CHARS = 100
MAX_NAME_CHARS = 50
MAX_COMMENT_CHARS = 300
TICKET_PREFIX = "Q"
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,28}[0-9]$")
_TICKET = re.compile(r"^Q(\d{8})-?(\d{3,4})$")
_TICKET_ATTEMPTS = 5

ReplyState = Literal["replied", "open", "overdue"]


@dataclass(frozen=True)
class FeedbackReceipt:
    """What the kiosk shows after a question is stored."""

    ticket: str
    due_on: dt.date
    due_is_estimate: bool
    idempotency_key: str
    submitted_at: dt.datetime


@dataclass(frozen=True)
class SurveyReceipt:
    survey: str
    rating: SurveyRating
    idempotency_key: str
    submitted_at: dt.datetime


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


@contextmanager
def durable_unit_of_work(cache: Cache) -> Iterator[Session]:
    """One transaction whose commit is fsynced (``synchronous = FULL``) before returning.

    A separate short-lived engine keeps the setting off the connections the rest of the
    process shares.

    Raises:
        CacheError: the database refused the write; nothing was stored.
    """
    engine = make_engine(cache.path, synchronous="FULL")
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            # Take the write lock first (what BEGIN IMMEDIATE would do; db.make_engine emits
            # a plain BEGIN): a read-then-write transaction in WAL mode fails at once with
            # "database is locked" when another writer committed meanwhile, instead of
            # waiting out busy_timeout.
            session.execute(sql("UPDATE feedback SET id = id WHERE 0"))
            yield session
    except (DatabaseError, OperationalError) as e:
        raise CacheError(f"{cache.path}: the submission could not be stored ({e.orig})") from e
    finally:
        engine.dispose()


def _clean(value: str | None, max_chars: int, what: str) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if not value:
        return None
    if len(value) > max_chars:
        raise SubmissionError(f"{what}太长（最多 {max_chars} 字）。 / {what}: at most "
                              f"{max_chars} characters.")
    return value


def _next_ticket(session: Session, day: dt.date, device: int,
                 marks: TicketMarks | None = None) -> str:
    """The day's next ticket of this kiosk; the kiosk's number keeps kiosks of one community
    (whose tickets all reach the hub and come back in bundles) from issuing the same one.

    With `marks`, numbering starts above the highest number ever issued here too, which a
    restored cache has forgotten (content.ticket_marks), and the new number is recorded
    there before the caller commits: a failed commit skips a number, never reuses one.
    """
    if not 0 <= device <= 9:
        raise ValueError(f"sync.device_number must be 0-9, got {device}")
    prefix = f"{TICKET_PREFIX}{day:%Y%m%d}-" + (str(device) if device else "")
    taken = session.scalars(
        select(Feedback.ticket).where(Feedback.ticket.like(prefix + "%"))
    ).all()
    numbers = [int(rest) for t in taken
               if (rest := t[len(prefix):]).isdigit() and len(rest) == 3]
    number = max(max(numbers, default=0), marks.high(prefix) if marks else 0) + 1
    if marks is not None:
        marks.raise_to(prefix, number)
    return f"{prefix}{number:03d}"


def ticket_marks(cache: Cache) -> TicketMarks:
    """The issued-ticket marks of this cache (beside its file, outside its backups)."""
    return TicketMarks.beside(cache.path)


def renumber(session: Session, fb: Feedback, config: Config, marks: TicketMarks) -> str:
    """Give a question the next free ticket of its submission day; returns the old one.

    For a question the hub refused because its number was taken (a kiosk rebuilt from a
    backup without its ticket marks, or two kiosks with one `sync.device_number`): the
    resident's number is lost either way, since the hub's question holds it and that one's
    answer will come back under it. Call inside `durable_unit_of_work` (its write lock
    keeps the marks consistent).
    """
    old = fb.ticket
    fb.ticket = _next_ticket(session, fb.submitted_at.date(), config.sync.device_number,
                             marks)
    session.flush()  # the next renumbering in this transaction counts this ticket
    return old


def _receipt(fb: Feedback) -> FeedbackReceipt:
    return FeedbackReceipt(fb.ticket, fb.due_on, fb.due_is_estimate, fb.idempotency_key,
                           fb.submitted_at)


def submit_feedback(cache: Cache, config: Config, *, topic: str, text: str,
                    kind: FeedbackKind = FeedbackKind.QUESTION,
                    disclosure_uid: str | None = None, contact_name: str | None = None,
                    contact_phone: str | None = None, now: dt.datetime | None = None,
                    idempotency_key: str | None = None) -> FeedbackReceipt:
    """Store a resident's question, suggestion or complaint in the outbox.

    The reply is due ``disclosure.reply_working_days`` working days later (a named complaint:
    ``named_complaint_days`` calendar days), per content.rules.reply_due.

    Raises:
        SubmissionError: empty or over-long text, a malformed phone number, a complaint
            without a name, or a disclosure that is not in the cache.
        CacheError: the cache refused the write; nothing was stored.
    """
    clean_text = _clean(text, MAX_TEXT_CHARS, "内容")
    clean_topic = _clean(topic, MAX_TOPIC_CHARS, "主题")
    if not clean_text:
        raise SubmissionError("请先写下您的问题或建议。 / Please enter your question.")
    if not clean_topic:
        raise SubmissionError("请选择一个主题。 / Please choose a topic.")
    name = _clean(contact_name, MAX_NAME_CHARS, "姓名")
    phone = _clean(contact_phone, 30, "电话")
    if phone is not None and not _PHONE.match(phone):
        raise SubmissionError("电话号码格式不对。 / That phone number does not look right.")
    if kind is FeedbackKind.COMPLAINT and name is None:
        raise SubmissionError("署名投诉需要留下姓名。 / A named complaint needs a name.")
    now = now or local_now(config)
    key = idempotency_key or new_idempotency_key()
    rules = config.disclosure
    due = reply_due(now.date(), complaint=kind is FeedbackKind.COMPLAINT,
                    reply_working_days=rules.reply_working_days,
                    named_complaint_days=rules.named_complaint_days)
    marks = ticket_marks(cache)
    for attempt in range(_TICKET_ATTEMPTS):
        try:
            with durable_unit_of_work(cache) as session:
                existing = session.scalars(
                    select(Feedback).where(Feedback.idempotency_key == key)).one_or_none()
                if existing is not None:
                    return _receipt(existing)
                concerns = None
                if disclosure_uid:
                    concerns = session.scalars(
                        select(Disclosure).where(Disclosure.uid == disclosure_uid)
                    ).one_or_none()
                    if concerns is None:
                        raise SubmissionError(f"找不到公开事项 {disclosure_uid}。 / "
                                              f"No disclosure {disclosure_uid}.")
                fb = Feedback(
                    ticket=_next_ticket(session, now.date(), config.sync.device_number,
                                        marks),
                    idempotency_key=key, kind=kind,
                    disclosure=concerns, topic=clean_topic, text=clean_text,
                    contact_name=name, contact_phone=phone, submitted_at=now,
                    due_on=due.on, due_is_estimate=due.estimate,
                    outbox_state=OutboxState.PENDING,
                )
                session.add(fb)
                session.flush()
                return _receipt(fb)
        except CacheError as e:
            # Another writer took the same ticket number between our read and our insert.
            if not isinstance(e.__cause__, IntegrityError) or attempt == _TICKET_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def submit_survey(cache: Cache, config: Config, *, rating: SurveyRating,
                  survey: str | None = None, comment: str = "",
                  now: dt.datetime | None = None,
                  idempotency_key: str | None = None) -> SurveyReceipt:
    """Store one satisfaction answer (民主测评) in the outbox.

    Raises:
        SubmissionError: the comment is too long.
        CacheError: the cache refused the write; nothing was stored.
    """
    now = now or local_now(config)
    name = survey or current_survey_name(now.date())
    clean_comment = _clean(comment, MAX_COMMENT_CHARS, "意见") or ""
    key = idempotency_key or new_idempotency_key()
    with durable_unit_of_work(cache) as session:
        existing = session.scalars(
            select(SurveyResponse).where(SurveyResponse.idempotency_key == key)).one_or_none()
        if existing is not None:
            return SurveyReceipt(existing.survey, existing.rating, key, existing.submitted_at)
        session.add(SurveyResponse(idempotency_key=key, survey=name, rating=rating,
                                   comment=clean_comment, submitted_at=now,
                                   outbox_state=OutboxState.PENDING))
    return SurveyReceipt(name, rating, key, now)


def current_survey_name(today: dt.date) -> str:
    """The half-year survey open on `today` (the demo's and the seeds' 上/下半年 rhythm)."""
    half = "上" if today.month <= 6 else "下"
    return f"{today.year}年{half}半年居务公开满意度测评"


def normalize_ticket(raw: str) -> str | None:
    """'q20261201007', ' Q20261201-007 ' → 'Q20261201-007'; None if it cannot be a ticket."""
    m = _TICKET.match("".join(raw.split()).upper())
    if m is None:
        return None
    return f"{TICKET_PREFIX}{m[1]}-{int(m[2]):03d}"


def feedback_by_ticket(session: Session, ticket: str) -> Feedback | None:
    """The question with this ticket number (spaces, case and the dash are forgiven)."""
    normal = normalize_ticket(ticket)
    if normal is None:
        return None
    return session.scalars(select(Feedback).where(Feedback.ticket == normal)).one_or_none()


def reply_state(fb: Feedback, today: dt.date) -> ReplyState:
    """Overdue questions are shown as overdue, never hidden (shared/domain.md, 反馈)."""
    if fb.reply_text:
        return "replied"
    return "overdue" if fb.due_on < today else "open"
