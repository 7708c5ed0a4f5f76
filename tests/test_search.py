from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from content.db import Cache
from content.domain import Category
from content.models import SearchDoc
from content.search import EmptyQuery, QueryTooLong, SearchFilters, search
from content.search_index import _fts_values, normalize, title_pinyin
from tests.conftest import TODAY


def uids(cache: Cache, query: str, **kw: object) -> list[str]:
    with cache.sessions() as s:
        return [h.uid for h in search(s, query, today=kw.pop("today", TODAY), **kw).hits]  # type: ignore[arg-type]


def test_one_two_and_longer_chinese_queries(loaded: Cache) -> None:
    # 电梯 is the two-character case that SQLite 3.40's trigram LIKE gets wrong.
    assert set(uids(loaded, "梯")) == {"aff-2026-05", "elevator-notice", "svc-repair"}
    assert set(uids(loaded, "电梯")) == {"aff-2026-05", "elevator-notice", "svc-repair"}
    assert uids(loaded, "电梯维修") == ["aff-2026-05"]
    assert uids(loaded, "低保") == ["dibao-2026-05"]


def test_pinyin_initials_and_full_pinyin_find_titles(loaded: Cache) -> None:
    assert uids(loaded, "cwgk") == ["cw-2026-q1"]
    assert uids(loaded, "CWGK") == ["cw-2026-q1"]
    assert uids(loaded, "caiwugongkai") == ["cw-2026-q1"]
    assert uids(loaded, "dibao") == ["dibao-2026-05"]
    with loaded.sessions() as s:
        hit = search(s, "cwgk", today=TODAY).hits[0]
    assert hit.marked()[0] == "2026年第一季度【财务公开】"


def test_initials_use_first_letter_for_y_and_w_syllables() -> None:
    # Style.INITIALS gives '' for 预/委/议 syllables; FIRST_LETTER does not.
    assert title_pinyin("居委会议").initials == "jwhy"
    assert title_pinyin("银行行长").syllables == "yin'hang'hang'zhang"


def test_title_hits_rank_before_body_hits(loaded: Cache) -> None:
    found = uids(loaded, "电梯")
    assert found[0] == "elevator-notice"  # 加装电梯… in the title


def test_current_items_rank_before_archived(loaded: Cache) -> None:
    # Both monthly reports have 社区事务公开 in the title; January's was taken down in March.
    found = uids(loaded, "社区事务公开")
    assert found == ["aff-2026-05", "aff-2026-01"]
    with loaded.sessions() as s:
        hits = search(s, "社区事务公开", today=TODAY).hits
    assert [h.current for h in hits] == [True, False]


def test_filters_category_period_and_current(loaded: Cache) -> None:
    assert uids(loaded, "公开", filters=SearchFilters(categories=[Category.FINANCE])) == [
        "cw-2026-q1"]
    in_q1 = SearchFilters(period_from=dt.date(2026, 1, 1), period_to=dt.date(2026, 3, 31))
    assert set(uids(loaded, "公", filters=in_q1)) == {"cw-2026-q1", "aff-2026-01"}
    assert "aff-2026-01" not in uids(loaded, "公开", filters=SearchFilters(current_only=True))
    services = SearchFilters(doc_types=["service"])
    assert uids(loaded, "维修", filters=services) == ["svc-repair"]


def test_corrected_item_is_archived_in_search(loaded: Cache, config: object) -> None:
    from tests.conftest import disclosure, load

    fix = disclosure("dibao-2026-05-v2", "低保评议结果公示（更正）", "更正了户主姓名。",
                     dt.date(2026, 5, 25), category="party", kind="immediate", days=30,
                     supersedes="dibao-2026-05", correction_note="户主姓名有误")
    load(loaded, config, {"disclosure": [fix]})  # type: ignore[arg-type]
    with loaded.sessions() as s:
        hits = search(s, "低保", today=TODAY).hits
    assert [(h.uid, h.current) for h in hits] == [("dibao-2026-05-v2", True),
                                                 ("dibao-2026-05", False)]


@pytest.mark.parametrize("query", ['"', "*", "'", "NEAR", "AND", "OR NOT", "(电梯", '电"梯',
                                   "电梯*", "NEAR(电梯 维修)", "a:b", "{title}: x", "^电"])
def test_fts_syntax_is_searched_literally(loaded: Cache, query: str) -> None:
    with loaded.sessions() as s:
        try:
            result = search(s, query, today=TODAY)
        except EmptyQuery:
            return
    for hit in result.hits:  # any hit must really contain the words
        assert hit.title_highlights or hit.snippet_highlights


def test_empty_and_overlong_queries(loaded: Cache) -> None:
    with loaded.sessions() as s:
        for q in ("", "   ", "，。", "\t\n"):
            with pytest.raises(EmptyQuery):
                search(s, q, today=TODAY)
        with pytest.raises(QueryTooLong, match="10000"):
            search(s, "电" * 10_000, today=TODAY)


def test_snippet_highlights_point_at_the_match(loaded: Cache) -> None:
    with loaded.sessions() as s:
        hit = next(h for h in search(s, "钢丝绳", today=TODAY).hits)
    (a, b), = hit.snippet_highlights
    assert hit.snippet[a:b] == "钢丝绳"


def _oracle(cache: Cache, needle: str) -> set[str]:
    with cache.sessions() as s:
        docs = s.scalars(select(SearchDoc)).all()
    n = normalize(needle)
    return {d.uid for d in docs if any(n in v for v in _fts_values(d).values())}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_substring_of_stored_text_finds_exactly_what_contains_it(
        loaded: Cache, data: st.DataObject) -> None:
    with loaded.sessions() as s:
        texts = [d.title + d.body for d in s.scalars(select(SearchDoc))]
    source = data.draw(st.sampled_from(texts))
    start = data.draw(st.integers(0, len(source) - 1))
    length = data.draw(st.integers(1, 6))
    needle = source[start:start + length]
    if not needle.strip() or " " in needle or "\n" in needle:
        return
    if all(unicodedata.category(c)[0] not in "LN" for c in needle) and len(needle) < 3:
        return  # short punctuation is not searchable (EmptyQuery), tested above
    if len(needle) < 3 and any(unicodedata.category(c)[0] not in "LN" for c in needle):
        return  # short terms match their letters and digits only
    with loaded.sessions() as s:
        found = {h.uid for h in search(s, needle, today=TODAY, limit=100).hits}
    assert found == _oracle(loaded, needle)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(min_size=0, max_size=120))
def test_arbitrary_input_gives_hits_or_a_clear_error(loaded: Cache, query: str) -> None:
    with loaded.sessions() as s:
        try:
            result = search(s, query, today=TODAY)
        except (EmptyQuery, QueryTooLong) as e:
            assert str(e)
            return
    assert result.total >= len(result.hits)


def test_punctuation_and_spaces_keep_short_terms_apart(loaded: Cache) -> None:
    # 社区卫生服务站 is open "8:00-17:00": "00" and "17" are in it, "01" is not (found by
    # hypothesis when punctuation was dropped and "0" and "1" became neighbours).
    assert "svc-health" in uids(loaded, "00")
    assert "svc-health" in uids(loaded, "17")
    assert "svc-health" not in uids(loaded, "01")


def test_rebuild_gives_the_same_index_reading_only_the_indexed_columns(
        loaded: Cache, config: object) -> None:
    # Migration 0002 runs rebuild() on the schema of its day: it must read no column added
    # later (e.g. service.map_url in 0004), nor reload corrections row by row.
    from sqlalchemy import event

    from content.db import unit_of_work
    from content.search_index import rebuild
    from tests.conftest import disclosure, load

    fix = disclosure("dibao-2026-05-v2", "低保评议结果公示（更正）", "更正了户主姓名。",
                     dt.date(2026, 5, 25), category="party", kind="immediate", days=30,
                     supersedes="dibao-2026-05", correction_note="户主姓名有误")
    load(loaded, config, {"disclosure": [fix]})  # type: ignore[arg-type]

    def index(cache: Cache) -> list[tuple[object, ...]]:
        with cache.sessions() as s:
            return [(d.doc_type, d.uid, d.superseded, d.title, d.pinyin, d.body)
                    for d in s.scalars(select(SearchDoc).order_by(SearchDoc.doc_type,
                                                                  SearchDoc.uid))]

    before = index(loaded)
    statements: list[str] = []
    event.listen(loaded.engine, "before_cursor_execute",
                 lambda *args: statements.append(args[2]))
    with unit_of_work(loaded) as s:
        assert rebuild(s) == len(before)
    reads = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(reads) <= 4  # disclosures, services: no per-row loads
    assert not any("map_url" in sql or "disclosure.kind" in sql for sql in reads)
    assert index(loaded) == before
    with loaded.sessions() as s:
        hits = search(s, "低保", today=TODAY).hits
    assert [(h.uid, h.current) for h in hits] == [("dibao-2026-05-v2", True),
                                                 ("dibao-2026-05", False)]
