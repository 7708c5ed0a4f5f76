"""Keeping the search index in step with the content, at write time.

Two FTS5 tables hold the same four columns (title, initials, pinyin, body):
`search_tri` with the trigram tokenizer answers queries of three characters or more;
`search_uni` stores every character as its own token and answers one- and two-character
queries as phrases. (SQLite 3.40's LIKE on a trigram table returns no rows for
two-character patterns, so short queries must not go there.) Pinyin of titles is
computed here, once per write: pypinyin's phrase dictionary is large and must never be
loaded by the kiosk's UI process.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session, load_only

from content.domain import Category
from content.models import Disclosure, SearchDoc, Service

SYLLABLE_SEP = "'"
FTS_TABLES = ("search_tri", "search_uni")
_COLUMNS = "title, initials, pinyin, body"


def normalize(value: str) -> str:
    """Fold what residents type and what is stored to one form (full-width → ASCII, case)."""
    return unicodedata.normalize("NFKC", value).casefold()


# Stands for any character that is not a letter or digit. The tokenizer would drop
# punctuation and spaces, making "0" and "1" of "8:00-17:00" neighbours; a two-letter token
# keeps them apart, and no query can match it since queries are split into single letters.
GAP_TOKEN = "qx"


def is_word_char(c: str) -> bool:
    return unicodedata.category(c)[0] in "LN"


def spaced(value: str) -> str:
    """Every letter or digit a token of its own (anything else a gap), for `search_uni`."""
    return " ".join(c if is_word_char(c) else GAP_TOKEN for c in value)


@dataclass(frozen=True)
class Pinyin:
    """A title's pinyin, one item per character so that a hit maps back to the characters."""

    initials: str   # one letter (or the character itself) per title character
    syllables: str  # items joined by SYLLABLE_SEP, one per title character

    @property
    def joined(self) -> str:
        return self.syllables.replace(SYLLABLE_SEP, "")


def title_pinyin(title: str) -> Pinyin:
    from pypinyin import Style, pinyin  # heavy: only on the write path

    # pypinyin documents an `errors` callback that returns a list (one item per character
    # that has no pinyin); its type hints only admit str.
    keep = cast(Callable[[str], str], list)
    full = pinyin(title, style=Style.NORMAL, errors=keep, strict=False)
    if len(full) != len(title):  # pragma: no cover - pypinyin contract
        raise AssertionError("pypinyin did not return one item per character")

    def clean(item: str) -> str:
        item = item.lower()
        return "_" if item == SYLLABLE_SEP or not item else item

    # The first letter of the full syllable is the initial (zh → z, as Style.FIRST_LETTER),
    # and y/w syllables keep theirs (Style.INITIALS would give '').
    items = [clean(i[0]) for i in full]
    return Pinyin(initials="".join(i[0] for i in items), syllables=SYLLABLE_SEP.join(items))


# The heading an item is filed under is part of what residents type: `cwgk` (财务公开)
# finds every finance item, `bmfw` (便民服务) every service, whatever their titles say.
CATEGORY_HEADINGS = {**{c.value: c.label for c in Category}, "services": "便民服务"}


@functools.lru_cache(maxsize=16)
def _heading_pinyin(category: str) -> Pinyin:
    return title_pinyin(CATEGORY_HEADINGS.get(category, ""))


def _fts_values(doc: SearchDoc) -> dict[str, str]:
    """Exactly what is indexed for a doc (deletes from contentless tables must repeat it)."""
    py = Pinyin(doc.initials, doc.pinyin)
    heading = _heading_pinyin(doc.category)
    return {
        "title": normalize(doc.title),
        "initials": f"{heading.initials} {doc.initials}",
        "pinyin": f"{heading.joined} {py.joined}",
        "body": normalize(doc.body),
    }


def _fts_write(session: Session, docs: Sequence[SearchDoc], command: str | None) -> None:
    """Insert (command None) or delete ('delete') the docs' rows in both FTS tables.

    Contentless FTS5 tables forget a row only when given exactly the values indexed.
    """
    if not docs:
        return
    rows = [{"rowid": d.id, **_fts_values(d)} for d in docs]
    for table in FTS_TABLES:
        params = rows if table == "search_tri" else [
            {k: (v if k == "rowid" else spaced(str(v))) for k, v in r.items()} for r in rows]
        if command is None:
            sql = (f"INSERT INTO {table}(rowid, {_COLUMNS}) "
                   "VALUES (:rowid, :title, :initials, :pinyin, :body)")
        else:
            sql = (f"INSERT INTO {table}({table}, rowid, {_COLUMNS}) "
                   f"VALUES ('{command}', :rowid, :title, :initials, :pinyin, :body)")
        session.execute(text(sql), params)


def _index(session: Session, doc_type: str, fields_by_id: dict[int, dict[str, object]],
           new: bool) -> None:
    """Add or refresh many docs with a few statements (bulk loads call this once)."""
    existing: dict[int, SearchDoc] = {}
    if not new:
        ids = list(fields_by_id)
        for start in range(0, len(ids), 900):
            for doc in session.scalars(select(SearchDoc).where(
                    SearchDoc.doc_type == doc_type,
                    SearchDoc.doc_id.in_(ids[start:start + 900]))):
                existing[doc.doc_id] = doc
        _fts_write(session, list(existing.values()), "delete")
    docs: list[SearchDoc] = []
    for doc_id, fields in fields_by_id.items():
        found = existing.get(doc_id)
        if found is None:
            found = SearchDoc(doc_type=doc_type, doc_id=doc_id, **fields)
            session.add(found)
        else:
            for key, value in fields.items():
                setattr(found, key, value)
        docs.append(found)
    session.flush()
    _fts_write(session, docs, None)


def index_disclosures(session: Session, rows: Sequence[Disclosure], *, new: bool = False) -> None:
    """Add or refresh disclosures; marks what they correct as superseded.

    `new=True` promises none of them is indexed yet (a fresh import), saving a lookup.
    """
    fields: dict[int, dict[str, object]] = {}
    superseded = _superseded(session, [d.id for d in rows])
    for d in rows:
        py = title_pinyin(d.title)
        fields[d.id] = {
            "uid": d.uid, "category": d.category.value, "publish_on": d.publish_on,
            "take_down_on": d.take_down_on, "period_start": d.period_start,
            "period_end": d.period_end, "superseded": d.id in superseded,
            "title": d.title, "initials": py.initials, "pinyin": py.syllables, "body": d.body,
        }
    _index(session, "disclosure", fields, new)
    corrected = [d.supersedes_id for d in rows if d.supersedes_id is not None]
    if corrected:
        session.execute(
            update(SearchDoc)
            .where(SearchDoc.doc_type == "disclosure", SearchDoc.doc_id.in_(corrected))
            .values(superseded=True)
        )


def _superseded(session: Session, ids: Sequence[int], chunk: int = 5000) -> set[int]:
    """Which of `ids` a correction supersedes: one query per `chunk` ids, instead of
    loading each row's superseded_by (every column of the correction, one row at a time)."""
    found: set[int] = set()
    for start in range(0, len(ids), chunk):
        found.update(i for i in session.scalars(
            select(Disclosure.supersedes_id)
            .where(Disclosure.supersedes_id.in_(ids[start:start + chunk]))) if i is not None)
    return found


def service_text(s: Service) -> str:
    return "\n".join(p for p in (s.kind.label, s.address, s.phone, s.hours, s.notes) if p)


def index_services(session: Session, rows: Sequence[Service], *, new: bool = False) -> None:
    fields: dict[int, dict[str, object]] = {}
    for s in rows:
        py = title_pinyin(s.name)
        fields[s.id] = {
            "uid": s.uid, "category": "services", "publish_on": None, "take_down_on": None,
            "period_start": None, "period_end": None, "superseded": False, "title": s.name,
            "initials": py.initials, "pinyin": py.syllables, "body": service_text(s),
        }
    _index(session, "service", fields, new)


def unindex(session: Session, doc_type: str, doc_ids: Iterable[int]) -> None:
    ids = list(doc_ids)
    if not ids:
        return
    docs = session.scalars(
        select(SearchDoc).where(SearchDoc.doc_type == doc_type, SearchDoc.doc_id.in_(ids))
    ).all()
    _fts_write(session, docs, "delete")
    session.execute(delete(SearchDoc).where(SearchDoc.id.in_([d.id for d in docs])))


def rebuild(session: Session) -> int:
    """Re-index everything (after a migration, or if the index is suspected damaged)."""
    for table in FTS_TABLES:
        session.execute(text(f"INSERT INTO {table}({table}) VALUES ('delete-all')"))
    session.execute(delete(SearchDoc))
    # Only the columns the index reads: migration 0002 runs this on a schema that lacks
    # the columns added after it (service.map_url in 0004, and whatever comes next).
    disclosures = list(session.scalars(select(Disclosure).options(
        load_only(Disclosure.uid, Disclosure.category, Disclosure.publish_on,
                  Disclosure.take_down_on, Disclosure.period_start, Disclosure.period_end,
                  Disclosure.title, Disclosure.body, Disclosure.supersedes_id))))
    services = list(session.scalars(select(Service).options(load_only(
        Service.uid, Service.name, Service.kind, Service.address, Service.phone,
        Service.hours, Service.notes))))
    index_disclosures(session, disclosures, new=True)
    index_services(session, services, new=True)
    return len(disclosures) + len(services)
