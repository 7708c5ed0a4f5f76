from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from content.blobs import BlobStore, sha256_of
from content.config import Config
from content.db import Cache, unit_of_work
from content.export import write_content_dir
from content.importer import ContentError, RawContent, import_content, parse, read_content_dir
from content.models import AuditEntry, Disclosure, Feedback
from content.queries import disclosure as get_disclosure
from content.queries import revision_chain
from tests.conftest import disclosure, load, mini


def errors_of(config: Config, content: dict[str, Any], base: Path | None = None) -> list[str]:
    with pytest.raises(ContentError) as err:
        parse(RawContent.from_mapping(content, origin="x.toml", base_dir=base), config.disclosure)
    return err.value.errors


def one(d: dict[str, Any]) -> dict[str, Any]:
    return {"disclosure": [d]}


def good() -> dict[str, Any]:
    return disclosure("ok-1", "标题", "正文", dt.date(2026, 6, 10))


def test_finance_totals_are_derived(loaded: Cache) -> None:
    with loaded.sessions() as s:
        d = get_disclosure(s, "cw-2026-q1")
        assert d is not None and d.finance is not None
        assert d.finance.income_fen == 8_500_000
        assert d.finance.expense_fen == 2_723_450
        assert d.finance.closing_balance_fen == 1_000_000 + 8_500_000 - 2_723_450


def test_feedback_due_dates_follow_working_days(loaded: Cache) -> None:
    with loaded.sessions() as s:
        rows = {f.ticket: f for f in s.scalars(select(Feedback))}
    # Submitted Friday 2026-06-12; 端午节 is 2026-06-19 (a Friday off): 10 working days
    # land on 2026-06-29.
    assert rows["Q20260612-002"].due_on == dt.date(2026, 6, 29)
    assert rows["Q20260601-001"].disclosure_id is not None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"take_down_on": dt.date(2026, 6, 19)}, "9 days after publish_on"),
        ({"take_down_on": None}, "take_down_on: required for periodic items"),
        ({"category": "sports"}, "'sports' is not one of: party, government"),
        ({"title": ""}, "title: must not be empty"),
        ({"title": "长" * 301}, "longer than 300 characters"),
        ({"publish_on": "2026-06-10"}, "expected date (YYYY-MM-DD), got str"),
        ({"publish_on": dt.datetime(2026, 6, 10, 8)}, "expected date (YYYY-MM-DD), got datetime"),
        ({"uid": "Bad UID!"}, "is not a valid uid"),
        ({"colour": "red"}, "colour: unknown key"),
        ({"supersedes": "x"}, "correction_note: required"),
        ({"body": "a\x00b"}, "contains control characters"),
        ({"period_start": dt.date(2026, 5, 1), "period_end": dt.date(2026, 4, 1)},
         "is before period_start"),
        ({"finance": {"opening_balance_fen": 1, "lines": []}}, "belong to category 'finance'"),
        ({"attachments": [{"path": "../../etc/passwd", "name": "x", "media_type": "text/plain"}]},
         "attachments need a content directory"),
    ],
)
def test_malformed_disclosures_are_refused_with_precise_messages(
        config: Config, change: dict[str, Any], expected: str) -> None:
    d = good()
    for key, value in change.items():
        if value is None:
            d.pop(key)
        else:
            d[key] = value
    errors = errors_of(config, one(d))
    assert any(expected in e for e in errors), errors
    assert all(e.startswith("x.toml: disclosure[0]") for e in errors)


def test_sign_off_rules(config: Config) -> None:
    d = good()
    d["sign_offs"] = [s for s in d["sign_offs"] if s["role"] != "secretary"]
    d["sign_offs"][-1]["signed_on"] = dt.date(2026, 6, 8)  # supervision 2 working days before
    d["sign_offs"][0]["signed_on"] = dt.date(2026, 6, 11)  # handler after publication
    errors = errors_of(config, one(d))
    assert any("missing the secretary (党组织书记) sign-off" in e for e in errors)
    assert any("is 2 working day(s) before publish_on" in e for e in errors)
    assert any("is after publish_on" in e for e in errors)


def test_review_lead_counts_holidays(config: Config) -> None:
    # Reviewed 2026-09-28 for publication on 2026-10-09: 10-01..10-07 are the National Day
    # holiday, so only 9-29, 9-30, 10-08 and 10-09 count (4 working days).
    d = disclosure("nd", "国庆后公示", "正文", dt.date(2026, 10, 9))
    d["sign_offs"][-1]["signed_on"] = dt.date(2026, 9, 28)
    errors = errors_of(config, one(d))
    assert any("4 working day(s)" in e for e in errors)


def test_all_problems_are_reported_at_once(config: Config) -> None:
    bad = [good() | {"uid": f"b{i}", "take_down_on": dt.date(2026, 6, 11)} for i in range(3)]
    bad.append(good() | {"uid": "b0"})
    errors = errors_of(config, {"disclosure": bad, "service": [{"uid": "s", "name": "x",
                                                                 "kind": "spaceship"}]})
    assert sum("1 days after" in e for e in errors) == 3
    assert any("duplicate disclosure uid 'b0'" in e for e in errors)
    assert any("'spaceship' is not one of" in e for e in errors)


def test_announcement_and_feedback_checks(config: Config) -> None:
    content = {
        "announcement": [
            {"uid": "a", "text": "x", "valid_from": dt.datetime(2026, 6, 2),
             "valid_until": dt.datetime(2026, 6, 1)},
            {"uid": "b", "text": "x", "valid_from": dt.datetime(2026, 6, 1),
             "rrule": "FREQ=SOMETIMES"},
        ],
        "feedback": [{"ticket": "t", "kind": "question", "topic": "x", "text": "y",
                      "submitted_at": dt.datetime(2026, 6, 1), "reply_text": "z"}],
    }
    errors = errors_of(config, content)
    assert any("valid_until: 2026-06-01 00:00:00 is not after" in e for e in errors)
    assert any("rrule: not a valid RFC 5545 rule" in e for e in errors)
    assert any("duration_minutes: required with rrule" in e for e in errors)
    assert any("reply_text and replied_at go together" in e for e in errors)


def test_changing_a_published_item_is_refused_and_nothing_is_written(
        loaded: Cache, config: Config) -> None:
    content = mini()
    content["disclosure"][0]["body"] = "悄悄改过的内容"
    content["disclosure"].append(disclosure("new-1", "新事项", "正文", dt.date(2026, 6, 12)))
    with pytest.raises(ContentError, match="publish a correction"):
        load(loaded, config, content)
    with loaded.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Disclosure)) == 6
        assert get_disclosure(s, "new-1") is None


def test_correction_supersedes_and_keeps_the_old_version(loaded: Cache, config: Config) -> None:
    fix = disclosure("cw-2026-q1-v2", "2026年第一季度财务公开（更正）", "更正维修费用。",
                     dt.date(2026, 4, 20), category="finance", days=90,
                     supersedes="cw-2026-q1", correction_note="维修费用录入有误",
                     finance={"opening_balance_fen": 1_000_000, "lines": []})
    with pytest.raises(ContentError, match="at least one line item"):
        load(loaded, config, {"disclosure": [fix]})
    fix["finance"]["lines"] = [{"direction": "expense", "category": "维修", "item": "电梯",
                                "amount_fen": 2_000_000, "note": ""}]
    load(loaded, config, {"disclosure": [fix]})
    with loaded.sessions() as s:
        new = get_disclosure(s, "cw-2026-q1-v2")
        assert new is not None
        assert [d.uid for d in revision_chain(new)] == ["cw-2026-q1", "cw-2026-q1-v2"]
        assert new.supersedes is not None and not new.supersedes.is_current(dt.date(2026, 5, 1))
        actions = s.scalars(select(AuditEntry.action).where(
            AuditEntry.entity_uid == "cw-2026-q1-v2")).all()
        assert actions == ["correct"]
    again = disclosure("cw-2026-q1-v3", "再次更正", "x", dt.date(2026, 4, 25),
                       category="finance", days=90, supersedes="cw-2026-q1",
                       correction_note="again")
    with pytest.raises(ContentError, match="already corrected by 'cw-2026-q1-v2'"):
        load(loaded, config, {"disclosure": [again]})


def test_content_directory_round_trip_with_attachment(tmp_path: Path, cache: Cache,
                                                      config: Config) -> None:
    content = mini()
    directory = tmp_path / "content"
    (directory / "attachments").mkdir(parents=True)
    pdf = directory / "attachments" / "q1.pdf"
    pdf.write_bytes(b"%PDF-1.4 fake but real bytes\n" * 10)
    content["disclosure"][4]["attachments"] = [
        {"path": "attachments/q1.pdf", "name": "一季度明细.pdf", "media_type": "application/pdf"}]
    write_content_dir(content, directory)
    raw = read_content_dir(directory)
    with unit_of_work(cache) as s:
        report = import_content(s, raw, config)
    assert report.created["disclosure"] == 6
    with cache.sessions() as s:
        d = get_disclosure(s, "cw-2026-q1")
        assert d is not None
        (att,) = d.attachments
    assert att.sha256 == sha256_of(pdf)
    assert BlobStore(config.blob_dir).path_for(att.sha256).read_bytes() == pdf.read_bytes()


def test_attachment_outside_directory_is_refused(tmp_path: Path, config: Config) -> None:
    (tmp_path / "secret.txt").write_text("x")
    base = tmp_path / "content"
    base.mkdir()
    d = good()
    d["attachments"] = [{"path": "../secret.txt", "name": "x", "media_type": "text/plain"},
                        {"path": "/etc/hostname", "name": "y", "media_type": "text/plain"},
                        {"path": "missing.pdf", "name": "z", "media_type": "application/pdf"}]
    errors = errors_of(config, one(d), base)
    assert sum("points outside the content directory" in e for e in errors) == 2
    assert any("no such file" in e for e in errors)


def test_unreadable_files_are_all_reported(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text("[[disclosure]\nuid = 1", encoding="utf-8")
    (tmp_path / "b.toml").write_bytes(b"title = '\xff\xfe'")
    (tmp_path / "c.toml").write_text("[[planets]]\nname = 'x'\n", encoding="utf-8")
    with pytest.raises(ContentError) as err:
        read_content_dir(tmp_path)
    text = "\n".join(err.value.errors)
    assert "a.toml: invalid TOML" in text
    assert "b.toml: not UTF-8" in text
    assert "c.toml: unknown table [planets]" in text
    with pytest.raises(ContentError, match="not a directory"):
        read_content_dir(tmp_path / "nope")


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.dates() | st.datetimes(),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)
keys = st.sampled_from(["uid", "category", "kind", "title", "body", "publish_on",
                        "take_down_on", "sign_offs", "finance", "supersedes", "text",
                        "valid_from", "ticket", "kind", "rating", "junk"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(section=st.sampled_from(["disclosure", "service", "announcement", "feedback",
                                "survey_response"]),
       entry=st.dictionaries(keys, values, max_size=8))
def test_any_entry_is_loaded_or_refused_with_messages(section: str, entry: dict[str, Any],
                                                      tmp_path_factory: Any) -> None:
    from content.config import load_config

    config = load_config(environ={"JUWU_PATHS__DATA_DIR": str(tmp_path_factory.mktemp("d"))})
    try:
        parse(RawContent.from_mapping({section: [entry]}), config.disclosure)
    except ContentError as e:
        assert e.errors and all(isinstance(m, str) and m for m in e.errors)


# --- services' map links -----------------------------------------------------------------


def service(**extra: Any) -> dict[str, Any]:
    return {"uid": "svc-map", "name": "社区卫生服务站", "kind": "health", **extra}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("javascript:alert(1)", "is not an http:// or https:// link"),
        ("ftp://example.com/map", "is not an http:// or https:// link"),
        ("https://", "is not an http:// or https:// link"),
        ("https://uri.amap.com/marker?name=社区 卫生", "is not an http:// or https:// link"),
        ("https://example.com:99999/", "is not an http:// or https:// link"),
        ("https://example.com/" + "x" * 500, "longer than 500 characters"),
        ("https://example.com/\x07", "contains control characters"),
        (42, "map_url: expected text, got int"),
    ],
)
def test_bad_map_links_are_refused_by_name(config: Config, url: Any, expected: str) -> None:
    errors = errors_of(config, {"service": [service(map_url=url)]})
    assert any(e.startswith("x.toml: service[0] (svc-map): map_url: ") and expected in e
               for e in errors), errors


def test_map_link_is_stored_exported_and_updated(tmp_path: Path, cache: Cache,
                                                 config: Config) -> None:
    from content.models import Service

    url = "https://uri.amap.com/marker?position=120.21874,30.24987"
    content = {"service": [service(map_url=url), service(uid="svc-plain", name="修鞋")]}
    directory = tmp_path / "content"
    write_content_dir(content, directory)
    assert "map_url = " in (directory / "services.toml").read_text(encoding="utf-8")
    with unit_of_work(cache) as s:
        import_content(s, read_content_dir(directory), config)
    with cache.sessions() as s:
        stored = {uid: url for uid, url in s.execute(select(Service.uid, Service.map_url))}
    assert stored == {"svc-map": url, "svc-plain": ""}
    content["service"][0]["map_url"] = "http://example.com/new"
    with unit_of_work(cache) as s:
        report = import_content(s, RawContent.from_mapping(content), config)
    assert report.updated["service"] == 1 and report.unchanged["service"] == 1
    with cache.sessions() as s:
        assert s.scalars(select(Service.map_url).where(Service.uid == "svc-map")).one() == (
            "http://example.com/new")


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # config: read-only
@given(url=st.one_of(st.text(max_size=80),
                     st.builds(lambda scheme, rest: scheme + rest,
                               st.sampled_from(["http://", "https://", "HTTP://", "http:/",
                                                "https:///", ""]),
                               st.text(max_size=60))))
def test_any_map_link_is_stored_as_a_web_link_or_refused(config: Config, url: str) -> None:
    from urllib.parse import urlsplit

    try:
        parsed = parse(RawContent.from_mapping({"service": [service(map_url=url)]}),
                       config.disclosure)
    except ContentError as e:
        assert all("map_url" in m for m in e.errors), e.errors
        return
    stored = parsed.services[0]["map_url"]
    assert stored == url
    if url:
        parts = urlsplit(url)
        assert parts.scheme in ("http", "https") and parts.hostname
        assert not any(c.isspace() for c in url) and len(url) <= 500
