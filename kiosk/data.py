"""What each screen shows, read from the cache into the plain values of kiosk.views.

Everything here runs on the I/O worker thread (never the UI thread), opens one session per
call and returns values that hold no ORM objects, so the UI cannot trigger a lazy load.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Callable

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session, aliased

from content.blobs import BlobStore
from content.config import Config, local_now
from content.db import Cache, unit_of_work
from content.domain import (
    Category,
    Direction,
    FeedbackKind,
    Kind,
    OutboxState,
    ServiceKind,
    SurveyRating,
)
from content.formatting import cn_date, period_text, yuan
from content.models import (
    Announcement,
    Attachment,
    BoardStatus,
    Disclosure,
    DisplayLogEntry,
    Feedback,
    SearchDoc,
    Service,
    SurveyResponse,
    SyncState,
)
from content.queries import (
    announcements_between,
    community,
    content_stamp,
    current_condition,
    current_disclosures,
    latest_finance,
    revision_chain,
)
from content.queries import disclosure as find_disclosure
from content.schedule import ScheduledItem, decide
from content.search import SearchFilters, search
from content.search_index import SYLLABLE_SEP
from content.submissions import (
    FeedbackReceipt,
    SurveyReceipt,
    feedback_by_ticket,
    reply_state,
    submit_feedback,
    submit_survey,
)
from kiosk.pdfpages import PDF_MEDIA_TYPE
from kiosk.views import (
    CATEGORY_ORDER,
    AdminView,
    AttachmentView,
    BoardPreview,
    CategoryTile,
    DetailView,
    FinanceRow,
    FinanceView,
    HomeView,
    Revision,
    Row,
    ServiceRow,
    SyncNowResult,
    TicketView,
    Vocabulary,
)

BROWSE_LIMIT = 5000  # a RecycleView scrolls this many rows smoothly; years narrow it further


def _announcement_changes(s: Session, now: dt.datetime) -> list[dt.datetime]:
    """When home's announcements next change by time alone: a start (a minute early, as
    home looks a minute ahead) or an end still to come."""
    ahead = now + dt.timedelta(minutes=1)
    first_start = s.scalar(select(func.min(Announcement.valid_from))
                           .where(Announcement.valid_from > ahead))
    first_end = s.scalar(select(func.min(Announcement.valid_until))
                         .where(Announcement.valid_until > now))
    return [t for t in (first_start and first_start - dt.timedelta(minutes=1), first_end)
            if t is not None]


def _status(d: Disclosure, today: dt.date) -> str:
    if d.publish_on > today:
        return "scheduled"
    if d.superseded_by is not None:
        return "corrected"
    return "current" if d.is_current(today) else "archived"


def _row(d: Disclosure, today: dt.date) -> Row:
    return Row(d.uid, d.title, f"{d.category.label} · {cn_date(d.publish_on)}", _status(d, today))


class KioskData:
    """The kiosk's read and write questions, each one unit of work on the cache."""

    def __init__(self, cache: Cache, config: Config,
                 now: Callable[[], dt.datetime] | None = None) -> None:
        self.cache = cache
        self.config = config
        self._now = now or (lambda: local_now(config))

    def now(self) -> dt.datetime:
        return self._now()

    def today(self) -> dt.date:
        return self._now().date()

    def _session(self) -> Session:
        return self.cache.sessions()

    def home(self) -> HomeView:
        today, now = self.today(), self.now()
        with self._session() as s:  # one read transaction: the stamp describes what is read
            stamp = content_stamp(s)
            comm = community(s)
            counts = dict(s.execute(
                select(Disclosure.category, func.count()).where(current_condition(today))
                .group_by(Disclosure.category)).all())
            tiles = [CategoryTile(c.value, c.label, counts.get(c, 0)) for c in CATEGORY_ORDER]
            week_ago = today - dt.timedelta(days=7)
            recent = [d for d in current_disclosures(s, today, limit=20)
                      if d.publish_on > week_ago][:6]
            new = [_row(d, today) for d in recent]
            start = dt.datetime.combine(today, dt.time())
            notes = [a.text for a in announcements_between(s, now, now + dt.timedelta(
                minutes=1))] or [a.text for a in announcements_between(
                    s, start, start + dt.timedelta(days=1))]
            until = min([start + dt.timedelta(days=1), *_announcement_changes(s, now)])
        name = comm.name if comm else self.config.community.name
        return HomeView(name, tiles, new, notes[:4], stamp, until)

    def years(self) -> list[int]:
        with self._session() as s:
            rows = s.execute(select(extract("year", Disclosure.publish_on)).distinct()).all()
        return sorted((int(r[0]) for r in rows), reverse=True)

    def browse(self, category: str = "", kind: str = "", period: str = "current") -> list[Row]:
        """period: "current", "month", "quarter", "all" or "year:2025" (the archive).

        Plain columns, not ORM objects: a long list (thousands of rows) is built in tens of
        milliseconds instead of half a second (bench/kiosk_bench.py).
        """
        today = self.today()
        newer = aliased(Disclosure)
        corrected = select(newer.id).where(newer.supersedes_id == Disclosure.id).exists()
        stmt = select(Disclosure.uid, Disclosure.title, Disclosure.category,
                      Disclosure.publish_on, Disclosure.take_down_on, corrected)
        if category:
            stmt = stmt.where(Disclosure.category == Category(category))
        if kind:
            stmt = stmt.where(Disclosure.kind == Kind(kind))
        if period == "current":
            stmt = stmt.where(current_condition(today))
        elif period in ("month", "quarter"):
            first_month = today.month if period == "month" else 3 * ((today.month - 1) // 3) + 1
            stmt = stmt.where(Disclosure.publish_on >= dt.date(today.year, first_month, 1),
                              Disclosure.publish_on <= today)
        elif period.startswith("year:"):
            year = int(period[5:])
            stmt = stmt.where(Disclosure.publish_on >= dt.date(year, 1, 1),
                              Disclosure.publish_on <= min(today, dt.date(year, 12, 31)))
        else:
            stmt = stmt.where(Disclosure.publish_on <= today)
        stmt = stmt.order_by(Disclosure.publish_on.desc(), Disclosure.id.desc())
        rows: list[Row] = []
        with self._session() as s:
            for uid, title, cat, publish, take_down, is_corrected in s.execute(
                    stmt.limit(BROWSE_LIMIT)):
                if publish > today:
                    status = "scheduled"
                elif is_corrected:
                    status = "corrected"
                else:
                    status = "current" if take_down is None or today < take_down else "archived"
                rows.append(Row(uid, title, f"{cat.label} · {cn_date(publish)}", status))
        return rows

    def detail(self, uid: str) -> DetailView | None:
        today = self.today()
        with self._session() as s:
            d = find_disclosure(s, uid)
            if d is None:
                return None
            chain = revision_chain(d)
            revisions = [Revision(v.uid, f"{cn_date(v.publish_on)} · {v.correction_note or v.title}"
                                  if v.supersedes_id else f"{cn_date(v.publish_on)} · {v.title}",
                                  v.uid == d.uid) for v in chain]
            blobs = BlobStore(self.config.blob_dir)
            attachments = [AttachmentView(
                a.name, a.media_type,
                str(blobs.path_for(a.sha256)) if blobs.has(a.sha256) else "", a.sha256)
                for a in d.attachments]
            finance = None
            if d.finance is not None:
                st = d.finance
                finance = FinanceView(
                    [FinanceRow(line.direction.value, line.category, line.item,
                                yuan(line.amount_fen), line.note) for line in st.lines],
                    yuan(st.opening_balance_fen), yuan(st.income_fen),
                    yuan(st.expense_fen), yuan(st.closing_balance_fen))
            correction = ""
            if d.supersedes_id is not None:
                correction = f"{cn_date(d.publish_on)} · {d.correction_note or ''}".strip(" ·")
            return DetailView(
                uid=d.uid, title=d.title, heading=f"{d.category.label} · {d.kind.label}",
                status=_status(d, today), period=period_text(d.period_start, d.period_end),
                published=cn_date(d.publish_on),
                take_down=cn_date(d.take_down_on) if d.take_down_on else "",
                correction=correction,
                paragraphs=[p.strip() for p in d.body.splitlines() if p.strip()],
                sign_offs=[(so.role.label, so.person, cn_date(so.signed_on))
                           for so in d.sign_offs],
                revisions=revisions if len(chain) > 1 else [],
                newest_uid=chain[-1].uid, attachments=attachments, finance=finance)

    def search(self, query: str, limit: int = 40) -> tuple[list[Row], int]:
        """Hits and how many there are.

        Raises:
            content.search.SearchError: nothing searchable, or too long.
        """
        today = self.today()
        cfg = self.config.search
        with self._session() as s:
            result = search(s, query, today=today, limit=limit, filters=SearchFilters(),
                            max_query_chars=cfg.max_query_chars,
                            candidate_cap=cfg.candidate_cap)
        rows = [Row(h.uid, h.title,
                    h.snippet if h.doc_type == "service" else
                    f"{Category(h.category).label} · "
                    f"{cn_date(h.publish_on) if h.publish_on else ''}",
                    "current" if h.current else "archived", h.doc_type) for h in result.hits]
        return rows, result.total

    def service_kinds(self) -> list[tuple[str, str, int]]:
        with self._session() as s:
            counts = dict(s.execute(select(Service.kind, func.count())
                                    .group_by(Service.kind)).all())
        return [(k.value, k.label, counts[k]) for k in ServiceKind if counts.get(k)]

    def services(self, kind: str = "") -> list[ServiceRow]:
        stmt = select(Service).order_by(Service.kind, Service.name)
        if kind:
            stmt = stmt.where(Service.kind == ServiceKind(kind))
        with self._session() as s:
            return [ServiceRow(v.uid, v.name, v.kind.label, v.address, v.phone, v.hours,
                               v.notes, v.map_url) for v in s.scalars(stmt)]

    def _ticket_view(self, fb: Feedback, today: dt.date) -> TicketView:
        return TicketView(fb.ticket, fb.topic, fb.text, reply_state(fb, today),
                          cn_date(fb.due_on), fb.reply_text or "",
                          cn_date(fb.replied_at.date()) if fb.replied_at else "")

    def ticket(self, raw: str) -> TicketView | None:
        with self._session() as s:
            fb = feedback_by_ticket(s, raw)
            return self._ticket_view(fb, self.today()) if fb else None

    def public_replies(self, limit: int = 30) -> list[TicketView]:
        """Replied questions, and overdue ones, newest first (never contact details)."""
        today = self.today()
        with self._session() as s:
            rows = s.scalars(select(Feedback).where(
                (Feedback.reply_text.is_not(None)) | (Feedback.due_on < today))
                .order_by(Feedback.submitted_at.desc()).limit(limit))
            return [self._ticket_view(fb, today) for fb in rows]

    def submit_question(self, *, topic: str, text: str, disclosure_uid: str | None,
                        phone: str | None, idempotency_key: str) -> FeedbackReceipt:
        return submit_feedback(self.cache, self.config, topic=topic, text=text,
                               kind=FeedbackKind.QUESTION, disclosure_uid=disclosure_uid,
                               contact_phone=phone, now=self.now(),
                               idempotency_key=idempotency_key)

    def submit_rating(self, rating: str, idempotency_key: str) -> SurveyReceipt:
        return submit_survey(self.cache, self.config, rating=SurveyRating(rating),
                             now=self.now(), idempotency_key=idempotency_key)

    def admin(self) -> AdminView:
        with unit_of_work(self.cache) as s:
            sync = [(r.key, r.value) for r in s.scalars(select(SyncState).order_by(SyncState.key))]
            boards = [(b.board, b.state.value, b.last_error or "")
                      for b in s.scalars(select(BoardStatus).order_by(BoardStatus.board))]
            outbox: dict[str, int] = {}
            for table, label in ((Feedback, "feedback"), (SurveyResponse, "survey")):
                for state, n in s.execute(select(table.outbox_state, func.count())
                                          .group_by(table.outbox_state)).all():
                    outbox[f"{label}.{OutboxState(state).value}"] = n
            previews = self._previews(s, [b for b, _, _ in boards])
        return AdminView(sync, boards, outbox, previews)

    def _previews(self, s: Session, known: list[str]) -> list[BoardPreview]:
        now = self.now()
        comm = community(s)
        name = comm.name if comm else self.config.community.name
        items = [ScheduledItem.from_announcement(a) for a in s.scalars(select(Announcement))]
        # The configured boards, those the driver reported on or logged, those targeted.
        logged = s.scalars(select(DisplayLogEntry.board).distinct())
        names = list(dict.fromkeys([*(b.name for b in self.config.boards), *known, *logged,
                                    *(b for i in items for b in i.boards)]))
        out = []
        for board in names:
            entry = s.scalars(select(DisplayLogEntry).where(DisplayLogEntry.board == board)
                              .order_by(DisplayLogEntry.shown_from.desc()).limit(1)).first()
            open_entry = entry is not None and entry.shown_to is None
            decision = decide(items, board, now, community_name=name)
            status = s.get(BoardStatus, board)
            out.append(BoardPreview(
                board, entry.text if entry is not None and open_entry else "",
                entry.shown_from.strftime("%m-%d %H:%M") if entry is not None and open_entry
                else "", decision.showing.text,
                status.preview_png if status is not None else None,
                status.preview_pages if status is not None else 0))
        return out

    def sync_now(self) -> SyncNowResult:
        """One sync and one outbox relay, as ``juwu sync`` would (the admin's "sync now").

        Never raises for hub or network trouble: the outcome says what happened.
        """
        from content.sync.client import SyncStatus, make_session, sync
        from content.sync.outbox import relay

        outcome = sync(self.config, self.cache)
        report = None
        if outcome.status is not SyncStatus.NOT_CONFIGURED:
            session = make_session(self.config.sync)
            try:
                report = relay(self.config, self.cache, session, force=True)
            finally:
                session.close()
        return SyncNowResult(outcome.status.value, outcome.message, report)

    def samples(self) -> dict[str, str]:
        """Items worth a screenshot: a finance table, a correction, a PDF, a ticket."""
        today = self.today()
        out: dict[str, str] = {}
        with self._session() as s:
            fin = latest_finance(s, today)
            if fin is not None:
                out["finance"] = fin.uid
            corrected = s.scalars(select(Disclosure.uid)
                                  .where(Disclosure.supersedes_id.is_not(None))).first()
            if corrected:
                out["correction"] = corrected
            with_pdf = s.scalars(select(Disclosure.uid).join(Disclosure.attachments)
                                 .where(Attachment.media_type == PDF_MEDIA_TYPE)
                                 .order_by(Disclosure.publish_on.desc())).first()
            if with_pdf:
                out["pdf"] = with_pdf
            ticket = s.scalars(select(Feedback.ticket).where(Feedback.reply_text.is_not(None))
                               .order_by(Feedback.submitted_at.desc())).first()
            if ticket:
                out["ticket"] = ticket
        return out

    def vocabulary(self) -> Vocabulary:
        chars: dict[str, Counter[str]] = {}
        words: dict[str, Counter[str]] = {}
        with self._session() as s:
            for title, syllables in s.execute(select(SearchDoc.title, SearchDoc.pinyin)):
                items = syllables.split(SYLLABLE_SEP)
                if len(items) != len(title):
                    continue
                pairs = [(c, p) for c, p in zip(title, items, strict=True)]
                for c, p in pairs:
                    if "\u4e00" <= c <= "\u9fff" and p.isalpha():
                        chars.setdefault(p, Counter())[c] += 1
                for (c1, p1), (c2, p2) in itertools.pairwise(pairs):
                    if all("\u4e00" <= c <= "\u9fff" for c in c1 + c2):
                        words.setdefault(p1 + p2, Counter())[c1 + c2] += 1
        return Vocabulary({p: [c for c, _ in n.most_common()] for p, n in chars.items()},
                          {p: [w for w, _ in n.most_common(6)] for p, n in words.items()})


DIRECTION_KEYS = {Direction.INCOME.value: "fin.income", Direction.EXPENSE.value: "fin.expense"}
