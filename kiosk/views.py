"""What each screen shows: plain immutable values, importable without the database.

The worker thread fills them from the cache (kiosk.data); the UI thread only reads them.
Home's view is also saved between runs (kiosk.home_snapshot), so these must stay plain.
Named tuples rather than frozen dataclasses: this module is imported before the kiosk's
first frame, and defining fifteen dataclasses took ten times as long (~10 ms).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from content.domain import Category

if TYPE_CHECKING:
    from content.sync.outbox import RelayReport

CATEGORY_ORDER = tuple(Category)  # home's tiles and browse's tabs, in the regulations' order


class Row(NamedTuple):
    """One line of a list: what it is, when, and whether it is still on display."""

    uid: str
    title: str
    subtitle: str
    status: str  # "current" | "archived" | "corrected" | "scheduled"
    doc_type: str = "disclosure"


class CategoryTile(NamedTuple):
    value: str
    label: str
    current: int


class HomeView(NamedTuple):
    community: str
    tiles: list[CategoryTile]
    new_this_week: list[Row]
    announcements: list[str]
    # What it was read from, for kiosk.home_snapshot: the cache's content stamp, and the
    # moment the passing of time alone changes it (midnight, an announcement's start or end).
    stamp: str = ""
    until: dt.datetime | None = None


class FinanceRow(NamedTuple):
    direction: str  # "income" | "expense"
    category: str
    item: str
    amount: str
    note: str


class FinanceView(NamedTuple):
    rows: list[FinanceRow]
    opening: str
    income: str
    expense: str
    closing: str


class Revision(NamedTuple):
    uid: str
    label: str
    shown: bool


class AttachmentView(NamedTuple):
    name: str
    media_type: str
    path: str  # where the blob is; "" when it has not arrived yet
    sha256: str = ""  # names the blob's rendered pages (kiosk.pdfpages)


class DetailView(NamedTuple):
    uid: str
    title: str
    heading: str  # category · kind
    status: str
    period: str
    published: str
    take_down: str
    correction: str
    paragraphs: list[str]
    sign_offs: list[tuple[str, str, str]]
    revisions: list[Revision]
    newest_uid: str
    attachments: list[AttachmentView]
    finance: FinanceView | None


class ServiceRow(NamedTuple):
    uid: str
    name: str
    kind: str
    address: str
    phone: str
    hours: str
    notes: str
    map_url: str = ""


class TicketView(NamedTuple):
    ticket: str
    topic: str
    text: str
    state: str  # "replied" | "open" | "overdue"
    due: str
    reply: str
    replied: str


class BoardPreview(NamedTuple):
    """What a board shows (its display log) beside what the schedule says it should."""

    board: str
    showing: str  # "" when the log has no open stretch
    since: str
    scheduled: str
    png: bytes | None = None  # the pages the driver last confirmed (BoardStatus.preview_png)
    pages: int = 0


class AdminView(NamedTuple):
    sync: list[tuple[str, str]]
    boards: list[tuple[str, str, str]]
    outbox: dict[str, int]
    previews: list[BoardPreview]


class SyncNowResult(NamedTuple):
    status: str
    message: str
    relay: RelayReport | None


@dataclass(frozen=True)
class Vocabulary:
    """Characters and words of the community's own titles, by pinyin, most frequent first.

    pypinyin must not be loaded in the UI process; the search index already holds each
    title's syllables, one per character, so the kiosk's candidate list comes from there.
    """

    by_syllable: dict[str, list[str]] = field(default_factory=dict)
    words: dict[str, list[str]] = field(default_factory=dict)  # joined pinyin → words

    def candidates(self, typed: str, limit: int = 12) -> list[str]:
        """Words whose pinyin is `typed`, then characters whose syllable starts with it."""
        typed = typed.lower()
        if not typed:
            return []
        out: list[str] = list(self.words.get(typed, []))
        exact = self.by_syllable.get(typed, [])
        out.extend(c for c in exact if c not in out)
        for syllable, chars in sorted(self.by_syllable.items()):
            if syllable != typed and syllable.startswith(typed):
                out.extend(c for c in chars if c not in out)
            if len(out) >= limit:
                break
        return out[:limit]


def blob_exists(path: str) -> bool:
    return bool(path) and Path(path).is_file()
