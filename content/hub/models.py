"""The hub's own tables (not the device cache): residents' submissions and staff replies.

SQLite in the hub data directory for one community; any SQLAlchemy URL (PostgreSQL for a
district) through `hub.database_url`. Each submission is stored exactly once: the
idempotency key is unique and the payload's sha256 is kept to tell a replay (same bytes,
200) from a conflicting reuse of the key (409).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Engine, String, Text, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class HubBase(DeclarativeBase):
    pass


class Submission(HubBase):
    """Shared columns of everything a device sends."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))


class HubFeedback(Submission):
    __tablename__ = "hub_feedback"

    ticket: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    disclosure: Mapped[str | None] = mapped_column(String(64))
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    reply_text: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=False))
    replied_by: Mapped[str | None] = mapped_column(String(50))


class HubSurvey(Submission):
    __tablename__ = "hub_survey"

    survey: Mapped[str] = mapped_column(String(100), index=True)
    rating: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")


def hub_sessions(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """Engine and session factory; tables are created if missing."""
    engine = create_engine(url, future=True)
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: object, _record: object) -> None:
            cur = dbapi_connection.cursor()  # type: ignore[attr-defined]
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = FULL")  # an acknowledged submission survives
            cur.execute("PRAGMA busy_timeout = 5000")
            cur.close()
    HubBase.metadata.create_all(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)
