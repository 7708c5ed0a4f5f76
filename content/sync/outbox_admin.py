"""What an operator sees of the outbox and can do about it (`juwu outbox list|retry`).

A parked row stays parked until someone decides the cause is gone (nginx fixed, the hub
upgraded): the relay never second-guesses a 4xx. `retry` puts such rows back to pending;
the next relay (`juwu sync`, the periodic sync, 立即同步) sends them. It also lifts the
relay's backoff, since an operator who just fixed the hub wants to see the result now.

A question the hub refused because its ticket number was taken cannot succeed unchanged:
`retry` gives it the next free number of its day first (content.submissions.renumber) and
says so, so the operator can tell the resident. Why the number was taken and why the
kiosk no longer reuses numbers after a restore: content.ticket_marks.

Why a row was parked is in its `outbox-park` audit entry ("HTTP <status>: <hub's answer>").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.config import Config
from content.db import Cache
from content.domain import OutboxState
from content.models import AuditEntry, Feedback, SurveyResponse
from content.submissions import (
    durable_unit_of_work,
    normalize_ticket,
    renumber,
    ticket_marks,
)

Kind = Literal["feedback", "survey"]
RowState = Literal["pending", "waiting", "parked"]
_AUDIT_ENTITY: dict[Kind, str] = {"feedback": "feedback", "survey": "survey_response"}
_REASON = re.compile(r"HTTP (\d{3})\b")
_SURVEY_REF = re.compile(r"survey-(\d{1,18})")


@dataclass(frozen=True)
class ParkReason:
    text: str
    http_status: int | None
    ticket_clash: bool


def parse_park_reason(reason: object, kind: Kind, key: str) -> ParkReason:
    """Read an `outbox-park` audit detail's reason ("HTTP 409: {…hub's answer…}").

    A ticket clash is the hub's 409 for a question that names the ticket (the hub keys on
    the idempotency key and on the ticket; a reused key says "was used for another
    submission"). The key is taken out first: it is quoted in the answer.
    """
    text = reason if isinstance(reason, str) else ""
    m = _REASON.match(text)
    status = int(m[1]) if m else None
    answer = text.replace(key, "") if key else text
    clash = (kind == "feedback" and status == 409
             and re.search(r"\bticket\b", answer, re.IGNORECASE) is not None)
    return ParkReason(text, status, clash)


@dataclass(frozen=True)
class OutboxRow:
    """One row still on the device's side: to send, or parked."""

    ref: str  # what `juwu outbox retry` takes: the ticket, or survey-<id>
    kind: Kind
    id: int
    idempotency_key: str
    state: RowState
    submitted_at: dt.datetime
    what: str  # "topic: text" or "survey: rating"
    parked_at: dt.datetime | None = None  # UTC, as the audit log records it
    reason: ParkReason | None = None

    def as_dict(self) -> dict[str, object]:
        r = self.reason
        return {"ref": self.ref, "kind": self.kind, "id": self.id,
                "idempotency_key": self.idempotency_key, "state": self.state,
                "submitted_at": self.submitted_at.isoformat(), "what": self.what,
                "parked_at": f"{self.parked_at:%Y-%m-%dT%H:%M:%SZ}" if self.parked_at else None,
                "http_status": r.http_status if r else None,
                "reason": r.text if r else None,
                "ticket_clash": r.ticket_clash if r else False}


@dataclass(frozen=True)
class RelayWait:
    """The relay's backoff, as SyncState records it."""

    next_attempt_at: dt.datetime | None
    failures: int
    last_error: str | None

    def waiting(self, now: dt.datetime) -> bool:
        return self.next_attempt_at is not None and now < self.next_attempt_at


def relay_wait(session: Session) -> RelayWait:
    from content.sync.client import _parse_iso, read_state

    st = read_state(session)
    failures = st.get("outbox_failures", "0")
    return RelayWait(_parse_iso(st.get("outbox_next_attempt_at")),
                     int(failures) if failures.isdigit() else 0, st.get("outbox_last_error"))


def outbox_rows(session: Session, now: dt.datetime) -> list[OutboxRow]:
    """Parked rows first, then those waiting or pending; oldest first within each."""
    state: RowState = "waiting" if relay_wait(session).waiting(now) else "pending"
    live = (OutboxState.PENDING, OutboxState.PARKED)
    rows: list[OutboxRow] = []
    for fb in session.scalars(select(Feedback).where(Feedback.outbox_state.in_(live))
                              .order_by(Feedback.id)):
        rows.append(OutboxRow(fb.ticket, "feedback", fb.id, fb.idempotency_key,
                              "parked" if fb.outbox_state is OutboxState.PARKED else state,
                              fb.submitted_at, f"{fb.topic}: {fb.text}"))
    for sv in session.scalars(select(SurveyResponse)
                              .where(SurveyResponse.outbox_state.in_(live))
                              .order_by(SurveyResponse.id)):
        rows.append(OutboxRow(f"survey-{sv.id}", "survey", sv.id, sv.idempotency_key,
                              "parked" if sv.outbox_state is OutboxState.PARKED else state,
                              sv.submitted_at, f"{sv.survey}: {sv.rating.value}"))
    parked = _park_entries(session, [r for r in rows if r.state == "parked"])
    out = [_with_reason(r, parked.get((r.kind, r.idempotency_key[:64]))) for r in rows]
    return sorted(out, key=lambda r: (r.state != "parked", r.submitted_at, r.kind, r.id))


def _park_entries(session: Session, rows: Sequence[OutboxRow]
                  ) -> dict[tuple[Kind, str], AuditEntry]:
    """The newest `outbox-park` entry of each row (a row parked, retried, parked again)."""
    if not rows:
        return {}
    uids = {r.idempotency_key[:64] for r in rows}
    kinds = {v: k for k, v in _AUDIT_ENTITY.items()}
    latest: dict[tuple[Kind, str], AuditEntry] = {}
    for entry in session.scalars(select(AuditEntry).where(
            AuditEntry.action == "outbox-park", AuditEntry.entity_uid.in_(uids))
            .order_by(AuditEntry.id)):
        kind = kinds.get(entry.entity)
        if kind is not None:
            latest[(kind, entry.entity_uid)] = entry
    return latest


def _with_reason(row: OutboxRow, entry: AuditEntry | None) -> OutboxRow:
    if row.state != "parked":
        return row
    detail = entry.detail if entry is not None and isinstance(entry.detail, dict) else {}
    reason = parse_park_reason(detail.get("reason"), row.kind, row.idempotency_key)
    return OutboxRow(row.ref, row.kind, row.id, row.idempotency_key, row.state,
                     row.submitted_at, row.what, entry.at if entry else None, reason)


class UnknownRef(LookupError):
    """Some references name no row of the outbox; nothing was changed."""

    def __init__(self, refs: Sequence[str]) -> None:
        super().__init__(", ".join(refs))
        self.refs = list(refs)


@dataclass(frozen=True)
class Retried:
    ref: str  # as the row is known now (a renumbered question: its new ticket)
    kind: Kind
    outcome: Literal["queued", "renumbered", "already-pending", "already-sent"]
    old_ticket: str | None = None
    reason: ParkReason | None = None


def retry(cache: Cache, config: Config, refs: Sequence[str] | None, *,
          now: dt.datetime | None = None) -> list[Retried]:
    """Put parked rows back to pending: those named by `refs`, or every parked one (None).

    A reference is a ticket (spaces, case and the dash forgiven), ``survey-<id>`` or an
    idempotency key. Rows already pending or sent are reported, not changed. One
    transaction: all named rows or none.

    Raises:
        UnknownRef: a reference names no submission (nothing changed).
        CacheError: the cache refused the write (nothing changed).
    """
    from content.sync.client import write_state

    now = now or dt.datetime.now(dt.UTC)
    marks = ticket_marks(cache)
    out: list[Retried] = []
    with durable_unit_of_work(cache) as s:  # its write lock also guards the ticket marks
        targets = _resolve(s, refs)
        reasons = {(r.kind, r.idempotency_key): r.reason for r in outbox_rows(s, now)
                   if r.state == "parked"}
        for row in targets:
            kind: Kind = "feedback" if isinstance(row, Feedback) else "survey"
            ref = row.ticket if isinstance(row, Feedback) else f"survey-{row.id}"
            if row.outbox_state is not OutboxState.PARKED:
                done = row.outbox_state is OutboxState.ACKED
                out.append(Retried(ref, kind, "already-sent" if done else "already-pending"))
                continue
            reason = reasons.get((kind, row.idempotency_key))
            old = None
            if isinstance(row, Feedback) and reason is not None and reason.ticket_clash:
                old = renumber(s, row, config, marks)
                ref = row.ticket
                s.add(AuditEntry(actor="operator", action="outbox-renumber",
                                 entity="feedback", entity_uid=row.idempotency_key[:64],
                                 detail={"from": old, "to": row.ticket}))
            row.outbox_state = OutboxState.PENDING
            s.add(AuditEntry(actor="operator", action="outbox-retry",
                             entity=_AUDIT_ENTITY[kind], entity_uid=row.idempotency_key[:64],
                             detail={"reason_was": reason.text if reason else None}))
            out.append(Retried(ref, kind, "renumbered" if old else "queued", old, reason))
        if any(r.outcome in ("queued", "renumbered") for r in out):
            write_state(s, {"outbox_next_attempt_at": None})
    return out


def _resolve(session: Session, refs: Sequence[str] | None
             ) -> list[Feedback | SurveyResponse]:
    if refs is None:
        return [*session.scalars(select(Feedback).where(
                    Feedback.outbox_state == OutboxState.PARKED).order_by(Feedback.id)),
                *session.scalars(select(SurveyResponse).where(
                    SurveyResponse.outbox_state == OutboxState.PARKED)
                    .order_by(SurveyResponse.id))]
    found: list[Feedback | SurveyResponse] = []
    unknown: list[str] = []
    for ref in refs:
        row = _find(session, ref.strip())
        if row is None:
            unknown.append(ref)
        elif row not in found:
            found.append(row)
    if unknown:
        raise UnknownRef(unknown)
    return found


def _find(session: Session, ref: str) -> Feedback | SurveyResponse | None:
    m = _SURVEY_REF.fullmatch(ref.lower())
    if m:
        return session.get(SurveyResponse, int(m[1]))
    tickets = {ref, normalize_ticket(ref) or ref}  # as typed (older formats), or normalised
    fb = session.scalars(select(Feedback).where(Feedback.ticket.in_(tickets))).first()
    if fb is not None:
        return fb
    by_key: Feedback | SurveyResponse | None = session.scalars(
        select(Feedback).where(Feedback.idempotency_key == ref)).first()
    if by_key is None:
        by_key = session.scalars(
            select(SurveyResponse).where(SurveyResponse.idempotency_key == ref)).first()
    return by_key
