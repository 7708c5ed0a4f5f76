"""The demo community loads through the real import path and reads like a real board."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from content.config import Config
from content.db import Cache, unit_of_work
from content.demo.generate import build_demo
from content.domain import Category
from content.importer import RawContent, import_content
from content.models import Disclosure, Service
from content.queries import latest_finance, open_feedback, stats
from content.search import search


def load_demo(cache: Cache, config: Config, anchor: dt.date) -> dict[str, dict[str, int]]:
    with unit_of_work(cache) as s:
        report = import_content(s, RawContent.from_mapping(build_demo(anchor)), config)
    return report.as_dict()


@pytest.mark.parametrize("anchor", [dt.date(2026, 12, 1), dt.date(2027, 2, 20),
                                    dt.date(2025, 10, 9), dt.date(2030, 1, 1)])
def test_demo_passes_every_rule_for_any_anchor(cache: Cache, config: Config,
                                               anchor: dt.date) -> None:
    report = load_demo(cache, config, anchor)
    assert report["created"]["disclosure"] >= 50
    assert report["created"]["service"] >= 50
    with cache.sessions() as s:
        data = stats(s, anchor, config)
        assert all(v["total"] > 0 for v in data["disclosures"]["by_category"].values())
        assert data["disclosures"]["current"] > 5
        assert data["announcements"]["active_this_week"] >= 5
        fin = latest_finance(s, anchor)
        assert fin is not None and fin.finance is not None
        assert fin.finance.closing_balance_fen >= 0


def test_demo_of_a_later_day_only_adds(cache: Cache, config: Config) -> None:
    load_demo(cache, config, dt.date(2026, 11, 20))
    report = load_demo(cache, config, dt.date(2026, 12, 12))
    assert report["unchanged"]["disclosure"] > 40
    with cache.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Service)) >= 50


def test_demo_is_searchable_the_way_residents_search(cache: Cache, config: Config) -> None:
    today = dt.date(2026, 12, 1)
    load_demo(cache, config, today)
    with cache.sessions() as s:
        for query in ("梯", "低保", "党费", "cwgk", "dangfei"):
            assert search(s, query, today=today).hits, query
        finance = search(s, "cwgk", today=today).hits
        assert finance[0].category == Category.FINANCE.value
        corrected = s.scalars(select(Disclosure).where(
            Disclosure.supersedes_id.is_not(None))).first()
        assert corrected is not None
        assert open_feedback(s)
