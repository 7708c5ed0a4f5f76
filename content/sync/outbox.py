"""The outbox relay: residents' feedback and survey answers to the hub, at least once.

Each row was committed on the device with an idempotency key (the kiosk's unit of work);
the relay POSTs it and the hub stores it exactly once (unique key + payload check). A 2xx
acknowledges: the row becomes ACKED and its contact details are erased from the device
(personal data minimal, docs/sync.md "Outbox"). A 4xx that cannot succeed on a retry is
PARKED and shown to staff (`juwu stats`, `juwu sync --status`, `juwu outbox list`), never
retried by itself and never dropped; `juwu outbox retry` queues it again once the cause is
fixed (content/sync/outbox_admin.py). Network trouble or 5xx leaves rows PENDING; the next
relay waits an exponentially growing, jittered delay (SyncState `outbox_next_attempt_at`).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content.config import Config
from content.db import Cache, unit_of_work
from content.domain import OutboxState
from content.models import AuditEntry, Feedback, SurveyResponse

# 408 Request Timeout and 429 Too Many Requests are worth retrying; other 4xx are not.
RETRYABLE_4XX = frozenset({408, 425, 429})
BASE_BACKOFF_S = 30.0


@dataclass
class RelayReport:
    """One relay run. `pending` is what is left to send, also when the run only waited."""

    acked: int = 0
    parked: int = 0
    pending: int = 0
    skipped_backoff: bool = False
    error: str | None = None
    parked_reasons: list[str] = field(default_factory=list)
    next_attempt_at: dt.datetime | None = None  # set while the relay backs off


def feedback_payload(row: Feedback) -> dict[str, Any]:
    return {
        "idempotency_key": row.idempotency_key, "ticket": row.ticket, "kind": row.kind.value,
        "topic": row.topic, "text": row.text,
        "disclosure": row.disclosure.uid if row.disclosure is not None else None,
        "contact_name": row.contact_name, "contact_phone": row.contact_phone,
        "submitted_at": row.submitted_at.isoformat(),
    }


def survey_payload(row: SurveyResponse) -> dict[str, Any]:
    return {"idempotency_key": row.idempotency_key, "survey": row.survey,
            "rating": row.rating.value, "comment": row.comment,
            "submitted_at": row.submitted_at.isoformat()}


def outbox_counts(session: Session) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    queries = {"feedback": select(Feedback.outbox_state, func.count())
               .group_by(Feedback.outbox_state),
               "survey": select(SurveyResponse.outbox_state, func.count())
               .group_by(SurveyResponse.outbox_state)}
    for name, query in queries.items():
        rows = session.execute(query).all()
        out[name] = {state.value: 0 for state in OutboxState} | {
            OutboxState(s).value: n for s, n in rows}
    return out


def relay(config: Config, cache: Cache, session: requests.Session, *,
          clock: Callable[[], dt.datetime] | None = None, force: bool = False) -> RelayReport:
    """Send PENDING rows (up to sync.outbox_batch of each kind) once; see the module doc."""
    from content.sync.client import _iso, _parse_iso, read_state, write_state

    now = (clock or (lambda: dt.datetime.now(dt.UTC)))()
    report = RelayReport()
    with cache.sessions() as s:
        state = read_state(s)
    next_at = _parse_iso(state.get("outbox_next_attempt_at"))
    if next_at is not None and now < next_at and not force:
        report.skipped_backoff = True
        report.next_attempt_at = next_at
        with cache.sessions() as s:
            report.pending = pending_count(s)
        return report
    base = config.sync.hub_url.rstrip("/")
    timeout = (config.sync.connect_timeout_s, config.sync.read_timeout_s)
    failed = False
    batch = config.sync.outbox_batch
    with cache.sessions() as s:
        fb = [(r.id, feedback_payload(r)) for r in s.scalars(
            select(Feedback).where(Feedback.outbox_state == OutboxState.PENDING)
            .order_by(Feedback.id).limit(batch))]
        sv = [(r.id, survey_payload(r)) for r in s.scalars(
            select(SurveyResponse).where(SurveyResponse.outbox_state == OutboxState.PENDING)
            .order_by(SurveyResponse.id).limit(batch))]
    work: list[tuple[type[Feedback] | type[SurveyResponse], str,
                     list[tuple[int, dict[str, Any]]]]] = [
        (Feedback, "/v1/feedback", fb), (SurveyResponse, "/v1/surveys", sv)]
    for model, path, payloads in work:
        for row_id, payload in payloads:
            try:
                response = session.post(base + path, json=payload, timeout=timeout)
            except requests.RequestException as e:
                report.error = f"cannot reach the hub: {e}"
                failed = True
                break
            code = response.status_code
            if 200 <= code < 300:
                _mark(cache, model, row_id, OutboxState.ACKED, None)
                report.acked += 1
            elif 400 <= code < 500 and code not in RETRYABLE_4XX:
                reason = f"HTTP {code}: {response.text[:500]}"
                _mark(cache, model, row_id, OutboxState.PARKED, reason)
                report.parked += 1
                report.parked_reasons.append(f"{payload['idempotency_key']}: {reason}")
            else:
                report.error = f"hub answered HTTP {code}"
                failed = True
                break
        if failed:
            break
    with unit_of_work(cache) as s:
        failures = int(read_state(s).get("outbox_failures", "0"))
        if failed:
            failures += 1
            delay = min(config.sync.outbox_backoff_max_s, BASE_BACKOFF_S * 2 ** (failures - 1))
            delay *= random.uniform(0.5, 1.0)  # jitter: a district's kiosks spread out
            report.next_attempt_at = now + dt.timedelta(seconds=delay)
            write_state(s, {"outbox_failures": str(failures),
                            "outbox_next_attempt_at": _iso(report.next_attempt_at),
                            "outbox_last_error": report.error})
        else:
            write_state(s, {"outbox_failures": None, "outbox_next_attempt_at": None,
                            "outbox_last_error": None})
        report.pending = pending_count(s)
    return report


def pending_count(session: Session) -> int:
    """Rows of both kinds still to send."""
    return sum(c[OutboxState.PENDING.value] for c in outbox_counts(session).values())


def _mark(cache: Cache, model: type[Feedback] | type[SurveyResponse], row_id: int,
          state: OutboxState, reason: str | None) -> None:
    with unit_of_work(cache) as s:
        row = s.get(Feedback, row_id) if model is Feedback else s.get(SurveyResponse, row_id)
        if row is None or row.outbox_state is not OutboxState.PENDING:
            return
        row.outbox_state = state
        if state is OutboxState.ACKED and isinstance(row, Feedback):
            row.contact_name = None  # the hub has it now; the device keeps no personal data
            row.contact_phone = None
        if reason is not None:
            kind = "feedback" if isinstance(row, Feedback) else "survey_response"
            s.add(AuditEntry(actor="outbox", action="outbox-park", entity=kind,
                             entity_uid=row.idempotency_key[:64], detail={"reason": reason}))
