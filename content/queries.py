"""Read-side questions the CLI, the kiosk and the boards ask of the cache.

Each function takes a Session opened by the caller (one per unit of work) and the date
"today" in the community's time zone, so that answers are reproducible in tests.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from content.config import Config
from content.domain import Category, SurveyRating
from content.models import (
    Announcement,
    Community,
    ContentStamp,
    Disclosure,
    Feedback,
    FinanceStatement,
    Service,
    SurveyResponse,
    SyncState,
)
from content.rules import satisfaction_percent


def today_in(config: Config) -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(config.community.timezone)).date()


def community(session: Session) -> Community | None:
    return session.scalars(select(Community)).first()


def content_stamp(session: Session) -> str:
    """The cache's content stamp (see content.stamp), read in the caller's transaction.

    Read in the same session as the content it describes, it names exactly what that
    session saw; read in a separate one, a write in between could pair old data with a
    new token.
    """
    return session.scalars(select(ContentStamp.token).where(ContentStamp.id == 1)).one()


def current_condition(today: dt.date) -> ColumnElement[bool]:
    """SQL condition: published, not taken down, not superseded by a correction."""
    newer = aliased(Disclosure)
    return and_(
        Disclosure.publish_on <= today,
        or_(Disclosure.take_down_on.is_(None), Disclosure.take_down_on > today),
        ~select(newer.id).where(newer.supersedes_id == Disclosure.id).exists(),
    )


def disclosure(session: Session, ref: str) -> Disclosure | None:
    """By uid, or by numeric id."""
    stmt = select(Disclosure).options(
        selectinload(Disclosure.sign_offs), selectinload(Disclosure.attachments),
        selectinload(Disclosure.finance).selectinload(FinanceStatement.lines),
    )
    row = session.scalars(stmt.where(Disclosure.uid == ref)).one_or_none()
    if row is None and ref.isdigit():
        row = session.scalars(stmt.where(Disclosure.id == int(ref))).one_or_none()
    return row


def service(session: Session, ref: str) -> Service | None:
    return session.scalars(select(Service).where(Service.uid == ref)).one_or_none()


def revision_chain(d: Disclosure) -> list[Disclosure]:
    """Oldest first: every version of this item, corrections included."""
    first = d
    while first.supersedes is not None:
        first = first.supersedes
    chain = [first]
    while chain[-1].superseded_by is not None:
        chain.append(chain[-1].superseded_by)
    return chain


def current_disclosures(session: Session, today: dt.date, category: Category | None = None,
                        limit: int = 50) -> list[Disclosure]:
    stmt = select(Disclosure).where(current_condition(today))
    if category is not None:
        stmt = stmt.where(Disclosure.category == category)
    stmt = stmt.order_by(Disclosure.publish_on.desc(), Disclosure.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def latest_finance(session: Session, today: dt.date) -> Disclosure | None:
    newer = aliased(Disclosure)
    stmt = (select(Disclosure).join(FinanceStatement)
            .where(Disclosure.publish_on <= today)
            .where(~select(newer.id).where(newer.supersedes_id == Disclosure.id).exists())
            .options(selectinload(Disclosure.finance).selectinload(FinanceStatement.lines))
            .order_by(Disclosure.period_end.desc(), Disclosure.publish_on.desc()).limit(1))
    return session.scalars(stmt).first()


def announcements_between(session: Session, start: dt.datetime,
                          end: dt.datetime) -> list[Announcement]:
    stmt = (select(Announcement)
            .where(Announcement.valid_from < end)
            .where(or_(Announcement.valid_until.is_(None), Announcement.valid_until > start))
            .order_by(Announcement.emergency.desc(), Announcement.priority.desc(),
                      Announcement.valid_from))
    return list(session.scalars(stmt))


def open_feedback(session: Session) -> list[Feedback]:
    return list(session.scalars(
        select(Feedback).where(Feedback.reply_text.is_(None)).order_by(Feedback.due_on)
    ))


@dataclass(frozen=True)
class SurveySummary:
    survey: str
    total: int
    counts: dict[str, int]
    percent: float | None
    below_threshold: bool  # under the threshold obliges the community to correct its work


def survey_summaries(session: Session, threshold_percent: int) -> list[SurveySummary]:
    rows = session.execute(
        select(SurveyResponse.survey, SurveyResponse.rating, func.count())
        .group_by(SurveyResponse.survey, SurveyResponse.rating)
        .order_by(SurveyResponse.survey)
    ).all()
    by_survey: dict[str, Counter[str]] = {}
    for survey, rating, count in rows:
        by_survey.setdefault(survey, Counter())[rating.value] += count
    out = []
    for survey, counts in by_survey.items():
        total = sum(counts.values())
        pct = satisfaction_percent(counts[SurveyRating.SATISFIED.value],
                                   counts[SurveyRating.BASIC.value], total)
        out.append(SurveySummary(survey, total, dict(counts), pct,
                                 pct is not None and pct < threshold_percent))
    return out


def stats(session: Session, today: dt.date, config: Config) -> dict[str, object]:
    """Counts a person checks first: what is there, what is current, what is overdue."""
    from content.sync.outbox import outbox_counts

    by_category = dict(session.execute(
        select(Disclosure.category, func.count()).group_by(Disclosure.category)
    ).all())
    current = dict(session.execute(
        select(Disclosure.category, func.count()).where(current_condition(today))
        .group_by(Disclosure.category)
    ).all())
    services = dict(session.execute(
        select(Service.kind, func.count()).group_by(Service.kind)
    ).all())
    open_items = open_feedback(session)
    now = dt.datetime.combine(today, dt.time())
    sync = {row.key: row.value for row in session.scalars(select(SyncState))}
    comm = community(session)
    return {
        "community": comm.name if comm else None,
        "today": today.isoformat(),
        "disclosures": {
            "total": sum(by_category.values()),
            "current": sum(current.values()),
            "by_category": {c.value: {"label": c.label, "total": by_category.get(c, 0),
                                      "current": current.get(c, 0)} for c in Category},
            "corrections": session.scalar(
                select(func.count()).where(Disclosure.supersedes_id.is_not(None))),
        },
        "services": {"total": sum(services.values()),
                     "by_kind": {k.value: n for k, n in services.items()}},
        "announcements": {
            "total": session.scalar(select(func.count()).select_from(Announcement)),
            "active_this_week": len(announcements_between(
                session, now, now + dt.timedelta(days=7))),
        },
        "feedback": {
            "total": session.scalar(select(func.count()).select_from(Feedback)),
            "open": len(open_items),
            "overdue": sum(1 for f in open_items if f.due_on < today),
        },
        "surveys": [s.__dict__ for s in survey_summaries(
            session, config.disclosure.satisfaction_threshold_percent)],
        "sync": sync,
        "outbox": outbox_counts(session),
    }
