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

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from content.models import Disclosure, SearchDoc, Service

SYLLABLE_SEP = "'"
FTS_TABLES = ("search_tri", "search_uni")
_COLUMNS = "title, initials, pinyin, body"


def normalize(value: str) -> str:
    """Fold what residents type and what is stored to one form (full-width → ASCII, case)."""
    return unicodedata.normalize("NFKC", value).casefold()


def spaced(value: str) -> str:
    """Every character a token of its own, for the one-token-per-character table."""
    return " ".join(value)


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
    first = pinyin(title, style=Style.FIRST_LETTER, errors=keep, strict=False)
    if len(full) != len(title) or len(first) != len(title):  # pragma: no cover - pypinyin contract
        raise AssertionError("pypinyin did not return one item per character")

    def clean(item: str) -> str:
        item = item.lower()
        return "_" if item == SYLLABLE_SEP else item

    return Pinyin(
        initials="".join(clean(i[0])[:1] or "_" for i in first),
        syllables=SYLLABLE_SEP.join(clean(i[0]) for i in full),
    )


def _fts_values(doc: SearchDoc) -> dict[str, str]:
    py = Pinyin(doc.initials, doc.pinyin)
    return {
        "title": normalize(doc.title),
        "initials": doc.initials,
        "pinyin": py.joined,
        "body": normalize(doc.body),
    }


def _fts_insert(session: Session, doc: SearchDoc) -> None:
    values = _fts_values(doc)
    session.execute(
        text(f"INSERT INTO search_tri(rowid, {_COLUMNS}) "
             "VALUES (:rowid, :title, :initials, :pinyin, :body)"),
        {"rowid": doc.id, **values},
    )
    session.execute(
        text(f"INSERT INTO search_uni(rowid, {_COLUMNS}) "
             "VALUES (:rowid, :title, :initials, :pinyin, :body)"),
        {"rowid": doc.id, **{k: spaced(v) for k, v in values.items()}},
    )


def _fts_delete(session: Session, doc: SearchDoc) -> None:
    # Contentless FTS5 tables forget a row only when given exactly the values indexed.
    values = _fts_values(doc)
    for table, vals in (("search_tri", values),
                        ("search_uni", {k: spaced(v) for k, v in values.items()})):
        session.execute(
            text(f"INSERT INTO {table}({table}, rowid, {_COLUMNS}) "
                 "VALUES ('delete', :rowid, :title, :initials, :pinyin, :body)"),
            {"rowid": doc.id, **vals},
        )


def _upsert(session: Session, doc_type: str, doc_id: int, fields: dict[str, object]) -> None:
    existing = session.scalars(
        select(SearchDoc).where(SearchDoc.doc_type == doc_type, SearchDoc.doc_id == doc_id)
    ).one_or_none()
    if existing is not None:
        _fts_delete(session, existing)
        for key, value in fields.items():
            setattr(existing, key, value)
        doc = existing
    else:
        doc = SearchDoc(doc_type=doc_type, doc_id=doc_id, **fields)
        session.add(doc)
    session.flush()
    _fts_insert(session, doc)


def index_disclosure(session: Session, d: Disclosure) -> None:
    """Add or refresh one disclosure in the index; marks what it corrects as superseded."""
    py = title_pinyin(d.title)
    _upsert(session, "disclosure", d.id, {
        "uid": d.uid,
        "category": d.category.value,
        "publish_on": d.publish_on,
        "take_down_on": d.take_down_on,
        "period_start": d.period_start,
        "period_end": d.period_end,
        "superseded": d.superseded_by is not None,
        "title": d.title,
        "initials": py.initials,
        "pinyin": py.syllables,
        "body": d.body,
    })
    if d.supersedes_id is not None:
        session.execute(
            update(SearchDoc)
            .where(SearchDoc.doc_type == "disclosure", SearchDoc.doc_id == d.supersedes_id)
            .values(superseded=True)
        )


def service_text(s: Service) -> str:
    return "\n".join(p for p in (s.kind.label, s.address, s.phone, s.hours, s.notes) if p)


def index_service(session: Session, s: Service) -> None:
    py = title_pinyin(s.name)
    _upsert(session, "service", s.id, {
        "uid": s.uid,
        "category": "services",
        "publish_on": None,
        "take_down_on": None,
        "period_start": None,
        "period_end": None,
        "superseded": False,
        "title": s.name,
        "initials": py.initials,
        "pinyin": py.syllables,
        "body": service_text(s),
    })


def unindex(session: Session, doc_type: str, doc_ids: Iterable[int]) -> None:
    ids = list(doc_ids)
    if not ids:
        return
    docs = session.scalars(
        select(SearchDoc).where(SearchDoc.doc_type == doc_type, SearchDoc.doc_id.in_(ids))
    ).all()
    for doc in docs:
        _fts_delete(session, doc)
    session.execute(delete(SearchDoc).where(SearchDoc.id.in_([d.id for d in docs])))


def rebuild(session: Session) -> int:
    """Re-index everything (after a migration, or if the index is suspected damaged)."""
    for table in FTS_TABLES:
        session.execute(text(f"INSERT INTO {table}({table}) VALUES ('delete-all')"))
    session.execute(delete(SearchDoc))
    count = 0
    for d in session.scalars(select(Disclosure)):
        index_disclosure(session, d)
        count += 1
    for s in session.scalars(select(Service)):
        index_service(session, s)
        count += 1
    return count
