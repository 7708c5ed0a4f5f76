"""Search for residents and staff: Chinese substrings of any length, pinyin, initials.

A query is split on white space into terms that must all match. A term of three or more
characters goes to the trigram table; shorter ones to the one-token-per-character table
as a phrase. Terms are always quoted, so FTS syntax typed by a user (`"`, `*`, `NEAR`,
`AND`) is searched for literally. Ranking: title (or title pinyin) hits first, then
current items before archived ones, then the newest. The cost is bounded: at most
`candidate_cap` of the newest title hits and of the newest hits overall are ranked.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from content.domain import Category
from content.errors import SearchError
from content.models import SearchDoc
from content.search_index import SYLLABLE_SEP, is_word_char, normalize, spaced

TITLE_COLUMNS = "{title initials pinyin}"
SNIPPET_CHARS = 80


class EmptyQuery(SearchError):
    pass


class QueryTooLong(SearchError):
    pass


@dataclass(frozen=True)
class SearchFilters:
    categories: Sequence[Category] = ()
    period_from: dt.date | None = None  # items whose period (or publish date) overlaps
    period_to: dt.date | None = None
    current_only: bool = False
    doc_types: Sequence[str] = ()  # "disclosure", "service"; empty: both


@dataclass(frozen=True)
class Hit:
    doc_type: str
    doc_id: int
    uid: str
    category: str
    title: str
    title_highlights: tuple[tuple[int, int], ...]
    snippet: str
    snippet_highlights: tuple[tuple[int, int], ...]
    title_hit: bool
    current: bool
    publish_on: dt.date | None

    def marked(self, start: str = "【", end: str = "】") -> tuple[str, str]:
        """Title and snippet with highlights wrapped in markers (for text output)."""
        return (_mark(self.title, self.title_highlights, start, end),
                _mark(self.snippet, self.snippet_highlights, start, end))


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[Hit]
    total: int
    total_is_lower_bound: bool  # more than `total` items match; only the newest were ranked
    terms: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class _Term:
    raw: str      # as normalized, for finding it in text
    short: bool   # goes to the one-token-per-character table

    def phrase(self) -> str:
        value = spaced(self.raw) if self.short else self.raw
        return '"' + value.replace('"', '""') + '"'


def _word_chars(value: str) -> str:
    return "".join(c for c in value if is_word_char(c))


def parse_query(query: str, max_chars: int) -> list[_Term]:
    """Split and check a query.

    Raises:
        QueryTooLong: over `max_chars` characters.
        EmptyQuery: nothing searchable (only spaces or punctuation).
    """
    if len(query) > max_chars:
        raise QueryTooLong(f"搜索内容太长（{len(query)} 字），请不超过 {max_chars} 字。"
                           f" / Query too long ({len(query)} > {max_chars} characters).")
    terms: list[_Term] = []
    # Control characters and lone surrogates can be in nothing stored: treat them as spaces.
    cleaned = "".join(" " if unicodedata.category(c) in ("Cc", "Cs") else c for c in query)
    for word in normalize(cleaned).split():
        if len(word) >= 3:
            terms.append(_Term(word, short=False))
        elif _word_chars(word):
            terms.append(_Term(_word_chars(word), short=True))
    if not terms:
        raise EmptyQuery("请输入要搜索的文字或拼音。 / Please type something to search for.")
    return terms


def _match_expr(terms: Sequence[_Term], columns: str | None) -> str:
    prefix = f"{columns}: " if columns else ""
    return " AND ".join(prefix + t.phrase() for t in terms)


def _candidate_sql(terms: Sequence[_Term], columns: str | None, filters: SearchFilters,
                   name: str, params: dict[str, object]) -> str:
    """The newest `:cap` matching rowids, as a subquery (FTS5 walks rowids newest first)."""
    long_terms = [t for t in terms if not t.short]
    short_terms = [t for t in terms if t.short]
    driver, other = ("search_tri", "search_uni") if long_terms else ("search_uni", None)
    params[f"{name}1"] = _match_expr(long_terms or short_terms, columns)
    where = [f"{driver} MATCH :{name}1"]
    if other and short_terms:
        where.append(f"f.rowid IN (SELECT rowid FROM {other} WHERE {other} MATCH :{name}2)")
        params[f"{name}2"] = _match_expr(short_terms, columns)
    join = ""
    extra = _filter_sql(filters, params)
    if extra:
        join = "JOIN search_doc d ON d.id = f.rowid"
        where.extend(extra)
    return (f"SELECT f.rowid AS id FROM {driver} f {join} WHERE {' AND '.join(where)} "
            "ORDER BY f.rowid DESC LIMIT :cap")


def _filter_sql(filters: SearchFilters, params: dict[str, object]) -> list[str]:
    where: list[str] = []
    if filters.categories:
        where.append("d.category IN :cats")
        params["cats"] = [c.value for c in filters.categories]
    if filters.doc_types:
        where.append("d.doc_type IN :types")
        params["types"] = list(filters.doc_types)
    if filters.period_from is not None:
        where.append("coalesce(d.period_end, d.publish_on) >= :pfrom")
        params["pfrom"] = filters.period_from
    if filters.period_to is not None:
        where.append("coalesce(d.period_start, d.publish_on) <= :pto")
        params["pto"] = filters.period_to
    if filters.current_only:
        where.append(_CURRENT_SQL)
    return where


def search(session: Session, query: str, *, today: dt.date, limit: int = 20, offset: int = 0,
           filters: SearchFilters | None = None, max_query_chars: int = 100,
           candidate_cap: int = 1000) -> SearchResult:
    """Find disclosures and services matching `query`, best first.

    Raises:
        EmptyQuery, QueryTooLong: see `parse_query`.
    """
    filters = filters or SearchFilters()
    terms = parse_query(query, max_query_chars)
    params: dict[str, object] = {"cap": candidate_cap, "today": today.isoformat(),
                                 "limit": limit, "offset": offset}
    title_sql = _candidate_sql(terms, TITLE_COLUMNS, filters, "t", params)
    all_sql = _candidate_sql(terms, None, filters, "a", params)
    # Ranking runs inside SQLite over at most 2 x cap rows; only the page's text is read.
    sql = f"""
        WITH t AS MATERIALIZED ({title_sql}), a AS MATERIALIZED ({all_sql}),
             u AS (SELECT id FROM t UNION SELECT id FROM a)
        SELECT d.id AS id, d.id IN (SELECT id FROM t) AS title_hit,
               ({_CURRENT_SQL}) AS cur, count(*) OVER () AS total,
               (SELECT count(*) FROM t) AS n_title, (SELECT count(*) FROM a) AS n_all
        FROM u JOIN search_doc d ON d.id = u.id
        ORDER BY title_hit DESC, cur DESC, coalesce(d.publish_on, '0001-01-01') DESC,
                 d.id DESC
        LIMIT :limit OFFSET :offset"""
    stmt = text(sql)
    for name in ("cats", "types"):
        if name in params:
            stmt = stmt.bindparams(bindparam(name, expanding=True))
    rows = session.execute(stmt, params).all()
    first = rows[0] if rows else None
    if first is None and offset > 0:  # a page past the end still reports the total
        first = session.execute(stmt, params | {"limit": 1, "offset": 0}).first()
    docs = {d.id: d for d in session.scalars(
        select(SearchDoc).where(SearchDoc.id.in_([r.id for r in rows])))}
    hits = [_hit(docs[r.id], terms, bool(r.title_hit), bool(r.cur)) for r in rows]
    total = first.total if first is not None else 0
    capped = first is not None and (first.n_title >= candidate_cap
                                    or first.n_all >= candidate_cap)
    return SearchResult(query=query, hits=hits, total=total, total_is_lower_bound=capped,
                        terms=tuple(t.raw for t in terms))


_CURRENT_SQL = ("NOT d.superseded AND (d.publish_on IS NULL OR d.publish_on <= :today) "
                "AND (d.take_down_on IS NULL OR d.take_down_on > :today)")


def _hit(doc: SearchDoc, terms: Sequence[_Term], title_hit: bool, current: bool) -> Hit:
    title_spans = _spans(doc.title, terms) or _pinyin_spans(doc, terms)
    snippet, snippet_spans = _snippet(doc.body, terms)
    return Hit(
        doc_type=doc.doc_type, doc_id=doc.doc_id, uid=doc.uid, category=doc.category,
        title=doc.title,
        title_highlights=tuple(title_spans), snippet=snippet,
        snippet_highlights=tuple(snippet_spans), title_hit=title_hit, current=current,
        publish_on=doc.publish_on,
    )


def _find_all(haystack: str, needle: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    while needle:
        i = haystack.find(needle, start)
        if i < 0:
            break
        spans.append((i, i + len(needle)))
        start = i + len(needle)
    return spans


def _spans(value: str, terms: Sequence[_Term]) -> list[tuple[int, int]]:
    folded = value.casefold() if len(value.casefold()) == len(value) else value
    spans: list[tuple[int, int]] = []
    for t in terms:
        spans.extend(_find_all(folded, t.raw))
    return _merge(spans)


def _pinyin_spans(doc: SearchDoc, terms: Sequence[_Term]) -> list[tuple[int, int]]:
    """Map a hit in the initials or the full pinyin back onto the title's characters."""
    spans: list[tuple[int, int]] = []
    syllables = doc.pinyin.split(SYLLABLE_SEP)
    starts, pos = [], 0
    for s in syllables:
        starts.append(pos)
        pos += len(s)
    joined = "".join(syllables)
    for t in terms:
        spans.extend(_find_all(doc.initials, t.raw))
        for a, b in _find_all(joined, t.raw):
            first = max(i for i, s in enumerate(starts) if s <= a)
            last = max(i for i, s in enumerate(starts) if s < b)
            spans.append((first, last + 1))
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return out


def _snippet(body: str, terms: Sequence[_Term]) -> tuple[str, list[tuple[int, int]]]:
    flat = " ".join(body.split())
    spans = _spans(flat, terms)
    if not spans:
        cut = flat[:SNIPPET_CHARS]
        return (cut + ("…" if len(flat) > SNIPPET_CHARS else ""), [])
    start = max(0, spans[0][0] - SNIPPET_CHARS // 3)
    end = min(len(flat), start + SNIPPET_CHARS)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    shift = len(prefix) - start
    inside = [(max(a, start) + shift, min(b, end) + shift)
              for a, b in spans if a < end and b > start]
    return prefix + flat[start:end] + suffix, inside


def _mark(value: str, spans: Sequence[tuple[int, int]], start: str, end: str) -> str:
    out, pos = [], 0
    for a, b in spans:
        out.append(value[pos:a] + start + value[a:b] + end)
        pos = b
    out.append(value[pos:])
    return "".join(out)
