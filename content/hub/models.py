"""The hub's own tables (not the device cache): residents' submissions and staff replies.

SQLite in the hub data directory for one community; any SQLAlchemy URL (PostgreSQL for a
district) through `hub.database_url`. The schema comes from the hub's own Alembic
migrations (content/hub/migrate.py), run whenever the hub or a `juwu hub` command opens the
database. Each submission is stored exactly once: the idempotency key is unique and the
payload's sha256 is kept to tell a replay (same bytes, 200) from a conflicting reuse of the
key (409).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    Index,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

# Execution option: this connection's transactions start with BEGIN IMMEDIATE (SQLite).
IMMEDIATE_OPTION = "juwu_begin_immediate"


class HubBase(DeclarativeBase):
    """The hub's tables; their schema is content/hub/migrations (Alembic), not create_all."""


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
    # `juwu hub inbox` lists by submission time (revision 0002).
    __table_args__ = (Index("ix_hub_feedback_submitted_at", "submitted_at"),)

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


def hub_engine(url: str) -> Engine:
    """An engine with the hub's connection settings (not yet migrated).

    SQLite: transactions are left to SQLAlchemy instead of pysqlite (the documented recipe,
    as for the cache), so a migration's DDL runs inside its transaction; WAL and
    `synchronous=FULL` so an acknowledged submission survives a power cut. PostgreSQL:
    connections are checked before use, so a restarted database server costs no request.
    """
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")  # an acknowledged submission survives
        cur.execute("PRAGMA busy_timeout = 5000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # A migration takes the write lock up front: two processes starting at once
        # (`hub serve` and `hub inbox`) then wait for each other instead of failing.
        immediate = conn.get_execution_options().get(IMMEDIATE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def hub_sessions(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """Engine and session factory, the schema migrated to the newest revision first.

    Raises:
        HubSchemaError: the database was written by a newer juwu.
    """
    from content.hub.migrate import upgrade

    engine = hub_engine(url)
    try:
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine, sessionmaker(engine, expire_on_commit=False)
