"""The disclosure domain as typed ORM models (SQLAlchemy 2).

What must be disclosed, when and how comes from the regulations in shared/seeds/, summed
up in shared/domain.md and docs/domain-rules.md. Rules that can be checked by the
database are CHECK constraints here; rules that need a calendar live in `content.rules`.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from content.domain import (
    Category,
    Direction,
    FeedbackKind,
    Kind,
    OutboxState,
    ServiceKind,
    SignOffRole,
    SurveyRating,
)


class Base(DeclarativeBase):
    pass


def _enum(cls: type[enum.Enum]) -> Enum:
    """Store an enum by its value (readable in SQLite, stable across renames of members)."""
    return Enum(
        cls,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
uid_str = Annotated[str, mapped_column(String(64), unique=True, index=True)]
name_str = Annotated[str, mapped_column(String(200))]
timestamp = Annotated[dt.datetime, mapped_column(DateTime(timezone=False))]
MAP_URL_MAX = 500  # a longer link makes a QR code too dense to scan from a screen


class Community(Base):
    """The community this cache belongs to (one row): shown on the kiosk and boards."""

    __tablename__ = "community"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[name_str]
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    office_hours: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")


class Disclosure(Base):
    """One published item. Corrections are new rows that supersede, never edits."""

    __tablename__ = "disclosure"
    __table_args__ = (
        # A posted item stays visible at least 10 days (shared/domain.md, "When"); the
        # configurable minimum is checked in content.rules, this is the floor of the law.
        CheckConstraint(
            "take_down_on IS NULL OR julianday(take_down_on) - julianday(publish_on) >= 10",
            name="min_display_10_days",
        ),
        CheckConstraint(
            "period_start IS NULL OR period_end IS NULL OR period_start <= period_end",
            name="period_ordered",
        ),
        CheckConstraint("supersedes_id IS NULL OR supersedes_id != id", name="no_self_supersede"),
        Index("ix_disclosure_category_publish", "category", "publish_on"),
    )

    id: Mapped[intpk]
    uid: Mapped[uid_str]
    category: Mapped[Category] = mapped_column(_enum(Category))
    kind: Mapped[Kind] = mapped_column(_enum(Kind))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    publish_on: Mapped[dt.date] = mapped_column(Date)
    take_down_on: Mapped[dt.date | None] = mapped_column(Date)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("disclosure.id", ondelete="RESTRICT"), unique=True
    )
    correction_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[timestamp] = mapped_column(server_default=func.current_timestamp())

    supersedes: Mapped[Disclosure | None] = relationship(
        remote_side="Disclosure.id", back_populates="superseded_by", foreign_keys=[supersedes_id]
    )
    superseded_by: Mapped[Disclosure | None] = relationship(
        back_populates="supersedes", foreign_keys=[supersedes_id], uselist=False
    )
    sign_offs: Mapped[list[SignOff]] = relationship(
        back_populates="disclosure", cascade="all, delete-orphan", order_by="SignOff.id"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="disclosure", cascade="all, delete-orphan", order_by="Attachment.id"
    )
    finance: Mapped[FinanceStatement | None] = relationship(
        back_populates="disclosure", cascade="all, delete-orphan", uselist=False
    )

    def is_current(self, today: dt.date) -> bool:
        """Shown in the "current" view: published, not taken down, not corrected since."""
        if self.publish_on > today or self.superseded_by is not None:
            return False
        return self.take_down_on is None or today < self.take_down_on


class SignOff(Base):
    __tablename__ = "sign_off"
    __table_args__ = (UniqueConstraint("disclosure_id", "role"),)

    id: Mapped[intpk]
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("disclosure.id", ondelete="CASCADE"))
    role: Mapped[SignOffRole] = mapped_column(_enum(SignOffRole))
    person: Mapped[name_str]
    signed_on: Mapped[dt.date] = mapped_column(Date)

    disclosure: Mapped[Disclosure] = relationship(back_populates="sign_offs")


class Attachment(Base):
    """A file belonging to a disclosure, stored once by its sha256 (see content.blobs)."""

    __tablename__ = "attachment"
    __table_args__ = (
        UniqueConstraint("disclosure_id", "name"),
        CheckConstraint("length(sha256) = 64", name="sha256_hex"),
        CheckConstraint("size_bytes >= 0", name="size_non_negative"),
    )

    id: Mapped[intpk]
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("disclosure.id", ondelete="CASCADE"))
    name: Mapped[name_str]
    media_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int]

    disclosure: Mapped[Disclosure] = relationship(back_populates="attachments")


class FinanceStatement(Base):
    """Finance disclosures are tables of line items; totals are derived, never stored."""

    __tablename__ = "finance_statement"

    disclosure_id: Mapped[int] = mapped_column(
        ForeignKey("disclosure.id", ondelete="CASCADE"), primary_key=True
    )
    opening_balance_fen: Mapped[int]

    disclosure: Mapped[Disclosure] = relationship(back_populates="finance")
    lines: Mapped[list[FinanceLine]] = relationship(
        back_populates="statement", cascade="all, delete-orphan", order_by="FinanceLine.seq"
    )

    def total_fen(self, direction: Direction) -> int:
        return sum(line.amount_fen for line in self.lines if line.direction is direction)

    @property
    def income_fen(self) -> int:
        return self.total_fen(Direction.INCOME)

    @property
    def expense_fen(self) -> int:
        return self.total_fen(Direction.EXPENSE)

    @property
    def closing_balance_fen(self) -> int:
        return self.opening_balance_fen + self.income_fen - self.expense_fen


class FinanceLine(Base):
    __tablename__ = "finance_line"
    __table_args__ = (
        CheckConstraint("amount_fen >= 0", name="amount_non_negative"),
        UniqueConstraint("statement_id", "seq"),
    )

    id: Mapped[intpk]
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("finance_statement.disclosure_id", ondelete="CASCADE")
    )
    seq: Mapped[int]
    direction: Mapped[Direction] = mapped_column(_enum(Direction))
    category: Mapped[str] = mapped_column(String(100))
    item: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")

    statement: Mapped[FinanceStatement] = relationship(back_populates="lines")


class Service(Base):
    """服务公开 and 便民信息: stations, shops, repair and housekeeping, hotlines."""

    __tablename__ = "service"

    id: Mapped[intpk]
    uid: Mapped[uid_str]
    name: Mapped[name_str]
    kind: Mapped[ServiceKind] = mapped_column(_enum(ServiceKind))
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    hours: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # A map link (http/https) the kiosk shows as a second QR code; "" when there is none.
    map_url: Mapped[str] = mapped_column(String(MAP_URL_MAX), default="", server_default="")


class Announcement(Base):
    """Short text for the LED boards; scheduling reads these (see content.schedule)."""

    __tablename__ = "announcement"
    __table_args__ = (
        CheckConstraint("valid_until IS NULL OR valid_from < valid_until", name="window_ordered"),
        CheckConstraint("duration_minutes IS NULL OR duration_minutes > 0", name="duration_pos"),
    )

    id: Mapped[intpk]
    uid: Mapped[uid_str]
    text: Mapped[str] = mapped_column(String(500))
    valid_from: Mapped[timestamp]
    valid_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=False))
    # RFC 5545 RRULE (e.g. "FREQ=WEEKLY;BYDAY=MO,TU;BYHOUR=8;BYMINUTE=0") with the length of
    # each showing; both empty means "all the time inside the validity window".
    rrule: Mapped[str | None] = mapped_column(String(300))
    duration_minutes: Mapped[int | None]
    priority: Mapped[int] = mapped_column(default=0)
    boards: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every board
    emergency: Mapped[bool] = mapped_column(default=False)


class Feedback(Base):
    """A resident's question, suggestion or complaint (意见箱), with its reply and deadline."""

    __tablename__ = "feedback"

    id: Mapped[intpk]
    ticket: Mapped[str] = mapped_column(String(32), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[FeedbackKind] = mapped_column(_enum(FeedbackKind))
    disclosure_id: Mapped[int | None] = mapped_column(ForeignKey("disclosure.id"))
    topic: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    # Personal data only when the resident chose to leave it; removed once the hub acks.
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    submitted_at: Mapped[timestamp]
    due_on: Mapped[dt.date] = mapped_column(Date)
    due_is_estimate: Mapped[bool] = mapped_column(default=False)
    reply_text: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=False))
    replied_by: Mapped[str | None] = mapped_column(String(50))
    outbox_state: Mapped[OutboxState] = mapped_column(
        _enum(OutboxState), default=OutboxState.PENDING
    )

    disclosure: Mapped[Disclosure | None] = relationship()


class SurveyResponse(Base):
    """One answer to a satisfaction survey (民主测评); under 90% satisfied obliges correction."""

    __tablename__ = "survey_response"

    id: Mapped[intpk]
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    survey: Mapped[str] = mapped_column(String(100), index=True)
    rating: Mapped[SurveyRating] = mapped_column(_enum(SurveyRating))
    comment: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[timestamp]
    outbox_state: Mapped[OutboxState] = mapped_column(
        _enum(OutboxState), default=OutboxState.PENDING
    )


class SyncState(Base):
    """Small key/value facts about synchronisation (bundle version, last success, error)."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[timestamp] = mapped_column(
        server_default=func.current_timestamp(), onupdate=func.current_timestamp()
    )


class AuditEntry(Base):
    """What changed when, and by whom: the archive's own history (归档)."""

    __tablename__ = "audit_log"

    id: Mapped[intpk]
    at: Mapped[timestamp] = mapped_column(server_default=func.current_timestamp(), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_uid: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SearchDoc(Base):
    """What the search index holds for one disclosure or service (see content.search_index).

    The FTS5 tables `search_tri` (trigram) and `search_uni` (one token per character) are
    created by migration 0002 and kept out of the ORM: their rowid is this table's id.
    """

    __tablename__ = "search_doc"
    __table_args__ = (UniqueConstraint("doc_type", "doc_id"),)

    id: Mapped[intpk]
    doc_type: Mapped[str] = mapped_column(String(16))  # "disclosure" | "service"
    doc_id: Mapped[int]
    uid: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(24))
    publish_on: Mapped[dt.date | None] = mapped_column(Date)
    take_down_on: Mapped[dt.date | None] = mapped_column(Date)
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    superseded: Mapped[bool] = mapped_column(default=False)
    title: Mapped[str] = mapped_column(String(300))
    initials: Mapped[str] = mapped_column(String(300))
    pinyin: Mapped[str] = mapped_column(String(2000))
    body: Mapped[str] = mapped_column(Text)


class BoardState(enum.StrEnum):
    """What the display driver last knew about a board (the kiosk's admin screen shows it)."""

    OK = "ok"            # the last exchange was answered as expected
    FAULTED = "faulted"  # several consecutive failures; the driver keeps retrying
    UNKNOWN = "unknown"  # not reached yet since the driver started


class DisplayLogEntry(Base):
    """One stretch of time a board showed one item: the evidence that an announcement was
    displayed for its required period. ``shown_to`` is NULL while it is still showing; a
    stretch ends when the board shows something else, is blanked, faults, or the driver
    stops."""

    __tablename__ = "display_log"
    __table_args__ = (
        CheckConstraint("shown_to IS NULL OR shown_from <= shown_to", name="shown_ordered"),
        Index("ix_display_log_board_from", "board", "shown_from"),
        Index("ix_display_log_item", "item_uid", "shown_from"),
    )

    id: Mapped[intpk]
    board: Mapped[str] = mapped_column(String(32))
    item_uid: Mapped[str] = mapped_column(String(64))  # announcement uid, or "fallback"
    text: Mapped[str] = mapped_column(String(500))
    shown_from: Mapped[timestamp]
    shown_to: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=False))


class BoardStatus(Base):
    """The latest health of one board, written by the display driver."""

    __tablename__ = "board_status"
    __table_args__ = (
        CheckConstraint("consecutive_failures >= 0", name="failures_non_negative"),
    )

    board: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[BoardState] = mapped_column(_enum(BoardState), default=BoardState.UNKNOWN)
    last_ok_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=False))
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    showing_uid: Mapped[str | None] = mapped_column(String(64))
    # What the board was last confirmed showing, as the simulator decodes the frames sent:
    # a PNG of every page, one pixel per LED (white on), pages stacked top to bottom; for
    # the kiosk's admin screen, which must not depend on display_driver to draw it.
    preview_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    preview_pages: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[timestamp]


class ContentStamp(Base):
    """One row whose token changes with every write to disclosed content (migration 0006).

    Triggers on the content tables set a new random token in the writing transaction, so
    equal tokens mean equal content: the kiosk checks a saved home against it before it
    imports SQLAlchemy (content.stamp). Written only by those triggers, never by code.
    """

    __tablename__ = "content_stamp"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[intpk]
    token: Mapped[str] = mapped_column(Text)
