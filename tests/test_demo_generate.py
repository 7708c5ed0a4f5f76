"""The demo generator's mapping, checked on its own against docs/content-format.md and the
rules the demo promises (it is what the kiosk shows out of the box, for any day)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter
from typing import Any

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from content.demo.generate import build_demo

DAY = dt.timedelta(days=1)
UID_RE = re.compile(r"^[a-z0-9._-]{1,64}$")
TICKET_RE = re.compile(r"^Q(\d{8})-(\d{3})$")

SECTIONS = {"community", "disclosure", "service", "announcement", "feedback", "survey_response"}
KEYS = {
    "community": {"name", "code", "address", "phone", "office_hours", "description"},
    "disclosure": {"uid", "category", "kind", "title", "body", "publish_on", "take_down_on",
                   "period_start", "period_end", "supersedes", "correction_note", "sign_offs",
                   "finance", "attachments"},
    "service": {"uid", "name", "kind", "address", "phone", "hours", "notes", "map_url"},
    "announcement": {"uid", "text", "valid_from", "valid_until", "rrule", "duration_minutes",
                     "priority", "boards", "emergency"},
    "feedback": {"ticket", "kind", "topic", "text", "submitted_at", "disclosure", "contact_name",
                 "contact_phone", "reply_text", "replied_at", "replied_by"},
    "survey_response": {"key", "survey", "rating", "comment", "submitted_at"},
}
REQUIRED = {
    "community": {"name", "code"},
    "disclosure": {"uid", "category", "kind", "title", "body", "publish_on", "sign_offs"},
    "service": {"uid", "name", "kind"},
    "announcement": {"uid", "text", "valid_from"},
    "feedback": {"ticket", "kind", "topic", "text", "submitted_at"},
    "survey_response": {"key", "survey", "rating", "submitted_at"},
}
CATEGORIES = {"party", "government", "affairs", "finance", "services"}
KINDS = {"fixed", "periodic", "stage", "immediate"}
SERVICE_KINDS = {"culture", "health", "elderly", "government", "shop", "housekeeping", "repair",
                 "hotline", "other"}
ROLES = {"handler", "director", "secretary", "supervision"}

ANCHORS = [
    dt.date(2024, 1, 1),
    dt.date(2024, 2, 29),
    dt.date(2025, 1, 9),
    dt.date(2025, 10, 10),
    dt.date(2026, 5, 27),  # the day the new term's fixed items are first published
    dt.date(2026, 12, 1),
    dt.date(2028, 2, 29),
    dt.date(2030, 12, 31),
]


def money(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"


def closing(statement: dict[str, Any]) -> int:
    fin = statement["finance"]
    signed = {"income": 1, "expense": -1}
    return int(fin["opening_balance_fen"]) + sum(
        signed[line["direction"]] * line["amount_fen"] for line in fin["lines"]
    )


def walk(value: Any, path: str = "") -> list[str]:
    """Paths of values TOML cannot hold (None) or that break the mapping's types."""
    bad: list[str] = []
    if value is None:
        bad.append(path)
    elif isinstance(value, dict):
        for k, v in value.items():
            bad += walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            bad += walk(v, f"{path}[{i}]")
    elif isinstance(value, dt.datetime) and value.tzinfo is not None:
        bad.append(path + " (aware)")
    return bad


def check_shape(data: dict[str, Any]) -> None:
    assert set(data) == SECTIONS
    assert not walk(data)
    for section in SECTIONS:
        rows = [data[section]] if section == "community" else data[section]
        for row in rows:
            assert set(row) <= KEYS[section], (section, set(row) - KEYS[section])
            assert REQUIRED[section] <= set(row), (section, REQUIRED[section] - set(row))
    assert UID_RE.match(data["community"]["code"])
    for section, key in (("disclosure", "uid"), ("service", "uid"), ("announcement", "uid"),
                         ("feedback", "ticket"), ("survey_response", "key")):
        values = [row[key] for row in data[section]]
        assert len(values) == len(set(values)), f"duplicate {section} {key}"
        if key == "uid":
            assert all(UID_RE.match(v) for v in values)


def check_disclosures(data: dict[str, Any], anchor: dt.date) -> None:
    items = data["disclosure"]
    by_uid = {d["uid"]: d for d in items}
    assert {d["category"] for d in items} == CATEGORIES
    assert {d["kind"] for d in items} == KINDS
    for d in items:
        publish = d["publish_on"]
        assert type(publish) is dt.date and publish <= anchor, d["uid"]
        assert d["title"] and len(d["title"]) <= 300 and d["body"].strip()
        assert 100 <= len(d["body"]) <= 800, (d["uid"], len(d["body"]))
        roles = Counter(s["role"] for s in d["sign_offs"])
        assert set(roles) == ROLES and max(roles.values()) == 1, d["uid"]
        for s in d["sign_offs"]:
            assert type(s["signed_on"]) is dt.date and s["person"]
            lead = (publish - s["signed_on"]).days
            if s["role"] == "supervision":
                assert lead >= 20, (d["uid"], lead)
            else:
                assert 1 <= lead <= 10, (d["uid"], s["role"], lead)
        if d["kind"] == "fixed":
            assert "take_down_on" not in d
        else:
            assert (d["take_down_on"] - publish).days >= 10, d["uid"]
        if "period_start" in d:
            assert d["period_start"] <= d["period_end"]
            if d["kind"] == "periodic":  # reports on a period that is over
                assert d["period_end"] < publish
        if "supersedes" in d:
            old = by_uid[d["supersedes"]]
            assert d["correction_note"] and old["publish_on"] < publish
            assert old["category"] == d["category"]
        if "finance" in d:
            assert d["category"] == "finance"
    corrections = [d for d in items if "supersedes" in d]
    assert corrections, "the demo shows at least one correction"
    assert any("finance" in d for d in corrections)

    monthly = [d for d in items if d["uid"].startswith("affairs-") and d["kind"] == "periodic"]
    assert len(monthly) == 12
    assert all(d["publish_on"].day == 10 for d in monthly)
    assert max(d["publish_on"] for d in monthly) > anchor - 32 * DAY


def check_finance(data: dict[str, Any], anchor: dt.date) -> None:
    statements = [d for d in data["disclosure"] if "finance" in d]
    superseded = {d["supersedes"] for d in statements if "supersedes" in d}
    chain = sorted((d for d in statements if d["uid"] not in superseded),
                   key=lambda d: d["period_start"])
    assert len(chain) >= 4
    for prev, cur in itertools.pairwise(chain):
        assert cur["period_start"] == prev["period_end"] + DAY, "quarters follow each other"
        assert cur["finance"]["opening_balance_fen"] == closing(prev), cur["uid"]
    # The latest quarter whose publication day has come is there.
    assert (anchor - chain[-1]["publish_on"]).days < 93
    for d in statements:
        fin = d["finance"]
        lines = fin["lines"]
        assert 8 <= len(lines) <= 20, d["uid"]
        assert isinstance(fin["opening_balance_fen"], int) and fin["opening_balance_fen"] >= 0
        for line in lines:
            assert set(line) == {"direction", "category", "item", "amount_fen", "note"}
            assert line["direction"] in ("income", "expense")
            assert type(line["amount_fen"]) is int and line["amount_fen"] > 0
        income = sum(x["amount_fen"] for x in lines if x["direction"] == "income")
        expense = sum(x["amount_fen"] for x in lines if x["direction"] == "expense")
        assert income > 0 and expense > 0 and closing(d) >= 0
        # The body states the totals the table adds up to.
        assert f"收入合计 {money(income)} 元" in d["body"], d["uid"]
        assert f"支出合计 {money(expense)} 元" in d["body"], d["uid"]
        assert f"上季度末结余 {money(fin['opening_balance_fen'])} 元" in d["body"]
        assert f"本季度末结余 {money(closing(d))} 元" in d["body"]


def check_services(data: dict[str, Any]) -> None:
    services = data["service"]
    assert len(services) >= 50
    assert {s["kind"] for s in services} == SERVICE_KINDS
    assert all("phone" in s or "address" in s for s in services)
    maps = [s["map_url"] for s in services if "map_url" in s]
    assert len(maps) >= 3
    assert all(u.startswith("https://uri.amap.com/marker?position=") and len(u) < 80
               for u in maps)


def check_announcements(data: dict[str, Any], anchor: dt.date) -> None:
    start = dt.datetime.combine(anchor, dt.time())
    end = start + 7 * DAY
    anns = data["announcement"]
    assert 8 <= len(anns) <= 15
    for a in anns:
        assert start <= a["valid_from"] < a["valid_until"] <= end, a["uid"]
        assert 0 < len(a["text"]) <= 60, a["text"]
        assert set(a["boards"]) <= {"hall", "gate"}
        if "rrule" in a:
            assert a["duration_minutes"] > 0
            rule = rrulestr(a["rrule"], dtstart=a["valid_from"])
            assert rule.between(a["valid_from"], a["valid_until"], inc=True), a["uid"]
    emergencies = [a for a in anns if a["emergency"]]
    assert len(emergencies) == 1
    assert emergencies[0]["valid_until"] - emergencies[0]["valid_from"] <= dt.timedelta(hours=12)
    assert any(not a["boards"] for a in anns) and any(a["boards"] for a in anns)
    assert any("rrule" in a for a in anns)
    assert len({a["priority"] for a in anns}) >= 3


def check_feedback(data: dict[str, Any], anchor: dt.date) -> None:
    items = data["feedback"]
    published = {d["uid"]: d["publish_on"] for d in data["disclosure"]}
    assert 15 <= len(items) <= 30
    start = dt.datetime.combine(anchor, dt.time())
    for f in items:
        submitted = f["submitted_at"]
        match = TICKET_RE.match(f["ticket"])
        assert match and match.group(1) == f"{submitted:%Y%m%d}"
        assert submitted < start and f["kind"] in ("question", "suggestion", "complaint")
        if "disclosure" in f:
            assert published[f["disclosure"]] <= submitted.date()
        if f["kind"] == "complaint":
            assert f.get("contact_name")
        replied = "reply_text" in f
        assert replied == ("replied_at" in f) == ("replied_by" in f)
        if replied:
            assert submitted < f["replied_at"] < start
            assert (f["replied_at"].date() - submitted.date()).days <= 10
            assert "{" not in f["reply_text"]
        else:
            # Still open, and not yet due (10 working days are at least 12 calendar days).
            assert (anchor - submitted.date()).days <= 12
    assert any(f["kind"] == "complaint" for f in items)
    assert any("disclosure" in f for f in items)
    assert any("reply_text" not in f for f in items), "recent ones are still open"
    assert sum("reply_text" in f for f in items) >= 10


def check_surveys(data: dict[str, Any], anchor: dt.date) -> None:
    answers = data["survey_response"]
    assert 150 <= len(answers) <= 300
    assert all(a["submitted_at"] < dt.datetime.combine(anchor, dt.time()) for a in answers)
    assert {a["rating"] for a in answers} <= {"satisfied", "basic", "dissatisfied"}
    latest = max(answers, key=lambda a: a["submitted_at"])["survey"]
    ratings = Counter(a["rating"] for a in answers if a["survey"] == latest)
    assert (ratings["satisfied"] + ratings["basic"]) * 100 >= 90 * ratings.total()
    # Published results quote the numbers of the answers.
    counts = Counter(a["survey"] for a in answers)
    for d in data["disclosure"]:
        if d["uid"].startswith("survey-result-"):
            survey = d["title"].removesuffix("结果公示")
            assert f"共收回有效测评{counts[survey]}份" in d["body"]


def check_all(anchor: dt.date) -> dict[str, Any]:
    data = build_demo(anchor)
    check_shape(data)
    check_disclosures(data, anchor)
    check_finance(data, anchor)
    check_services(data)
    check_announcements(data, anchor)
    check_feedback(data, anchor)
    check_surveys(data, anchor)
    return data


@pytest.mark.parametrize("anchor", ANCHORS, ids=str)
def test_demo_is_consistent(anchor: dt.date) -> None:
    check_all(anchor)


@settings(max_examples=25, deadline=None)
@given(st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 12, 31)))
def test_demo_is_consistent_for_any_day(anchor: dt.date) -> None:
    check_all(anchor)


def test_same_anchor_same_mapping() -> None:
    anchor = dt.date(2026, 12, 1)
    assert build_demo(anchor) == build_demo(anchor)
    assert build_demo(anchor, seed=7) == build_demo(anchor, seed=7)
    assert build_demo(anchor, seed=7) != build_demo(anchor)


def test_an_item_reads_the_same_from_any_anchor() -> None:
    """A uid never comes back with other content (the importer refuses that), so loading
    the demo of a later day on top of an earlier one only adds items."""
    seen: dict[str, dict[str, Any]] = {}
    anchor = dt.date(2025, 1, 3)
    while anchor < dt.date(2027, 3, 1):
        for row in build_demo(anchor)["disclosure"]:
            assert seen.setdefault(row["uid"], row) == row, (row["uid"], anchor)
        anchor += 23 * DAY


def test_texts_follow_the_dates() -> None:
    data = build_demo(dt.date(2026, 12, 1))
    by_uid = {d["uid"]: d for d in data["disclosure"]}
    assert "2026年10月社区事务办理情况" in by_uid["affairs-2026-10"]["body"]
    assert by_uid["affairs-2026-10"]["publish_on"] == dt.date(2026, 11, 10)
    q3 = by_uid["finance-2026-q3"]
    assert q3["title"] == "2026年第3季度社区财务收支公开"
    assert q3["publish_on"] == dt.date(2026, 10, 10)
    assert "finance-2026-q4" not in by_uid  # published 2027-01-10, after the anchor
    counts = Counter(d["kind"] for d in data["disclosure"])
    assert counts["periodic"] >= 12 + 4 + 4
