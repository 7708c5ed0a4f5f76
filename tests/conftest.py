"""Shared fixtures: a real SQLite cache in a temporary directory and a small community."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from content.config import Config, load_config
from content.db import Cache, open_cache, unit_of_work
from content.importer import RawContent, import_content

if TYPE_CHECKING:
    from tests.sync_support import Device, Hub

TODAY = dt.date(2026, 6, 15)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(environ={"JUWU_PATHS__DATA_DIR": str(tmp_path / "data")})


@pytest.fixture
def cache(config: Config) -> Iterator[Cache]:
    c = open_cache(config.database_path)
    yield c
    c.close()


def sign_offs(publish_on: dt.date) -> list[dict[str, Any]]:
    return [
        {"role": "handler", "person": "李晓梅", "signed_on": publish_on - dt.timedelta(days=3)},
        {"role": "director", "person": "张国华", "signed_on": publish_on - dt.timedelta(days=2)},
        {"role": "secretary", "person": "张国华", "signed_on": publish_on - dt.timedelta(days=2)},
        {"role": "supervision", "person": "王建国",
         "signed_on": publish_on - dt.timedelta(days=20)},
    ]


def disclosure(uid: str, title: str, body: str, publish_on: dt.date, *,
               category: str = "affairs", kind: str = "periodic",
               days: int | None = 30, **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "uid": uid, "category": category, "kind": kind, "title": title, "body": body,
        "publish_on": publish_on, "sign_offs": sign_offs(publish_on),
    }
    if days is not None:
        d["take_down_on"] = publish_on + dt.timedelta(days=days)
    d.update(extra)
    return d


def finance_lines() -> list[dict[str, Any]]:
    return [
        {"direction": "income", "category": "上级拨款", "item": "社区工作经费",
         "amount_fen": 8_000_000, "note": ""},
        {"direction": "income", "category": "捐赠", "item": "辖区企业捐赠", "amount_fen": 500_000,
         "note": "用于困难家庭慰问"},
        {"direction": "expense", "category": "办公费", "item": "办公用品", "amount_fen": 123_450,
         "note": ""},
        {"direction": "expense", "category": "维修", "item": "3号楼电梯维修",
         "amount_fen": 2_600_000, "note": ""},
    ]


MINI: dict[str, Any] = {
    "community": {"name": "幸福里社区", "code": "xingfuli", "address": "幸福路18号"},
    "disclosure": [
        disclosure("aff-2026-05", "2026年5月社区事务公开",
                   "本月完成3号楼电梯维修，更换曳引机钢丝绳。", dt.date(2026, 6, 10)),
        disclosure("aff-2026-01", "2026年1月社区事务公开",
                   "开展冬季送温暖活动，走访困难家庭12户。", dt.date(2026, 2, 10)),
        disclosure("fixed-committee", "社区居委会成员及分工", "主任张国华，负责全面工作。",
                   dt.date(2025, 1, 10), kind="fixed", days=None),
        disclosure("elevator-notice", "加装电梯意见征询结果公示",
                   "经征询，5号楼住户同意加装。", dt.date(2026, 6, 1),
                   category="government", kind="immediate", days=15),
        disclosure("cw-2026-q1", "2026年第一季度财务公开", "本季度收支情况如下表。",
                   dt.date(2026, 4, 10), category="finance", days=90,
                   period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31),
                   finance={"opening_balance_fen": 1_000_000, "lines": finance_lines()}),
        disclosure("dibao-2026-05", "低保评议结果公示", "经民主评议，同意王某某家庭纳入低保。",
                   dt.date(2026, 5, 20), category="party", kind="immediate", days=20),
    ],
    "service": [
        {"uid": "svc-repair", "name": "老王家电维修", "kind": "repair", "address": "幸福路20号",
         "phone": "13800000001", "hours": "8:00-18:00", "notes": "上门维修电梯以外的家电"},
        {"uid": "svc-health", "name": "社区卫生服务站", "kind": "health", "address": "幸福路18号",
         "phone": "0571-80000000", "hours": "周一至周六 8:00-17:00", "notes": "",
         "map_url": "https://uri.amap.com/marker?position=120.15507,30.27415"},
    ],
    "announcement": [
        {"uid": "ann-water", "text": "明日9:00-12:00停水，请提前储水", "valid_from":
         dt.datetime(2026, 6, 15, 8), "valid_until": dt.datetime(2026, 6, 16, 12),
         "emergency": True, "boards": []},
        {"uid": "ann-clinic", "text": "每周六上午义诊", "valid_from": dt.datetime(2026, 6, 1),
         "rrule": "FREQ=WEEKLY;BYDAY=SA;BYHOUR=8", "duration_minutes": 240, "priority": 2,
         "boards": ["hall"]},
    ],
    "feedback": [
        {"ticket": "Q20260601-001", "kind": "question", "topic": "财务",
         "text": "维修费用为何这么高？",
         "submitted_at": dt.datetime(2026, 6, 1, 9, 30), "disclosure": "cw-2026-q1",
         "reply_text": "含更换钢丝绳材料费。", "replied_at": dt.datetime(2026, 6, 5, 10),
         "replied_by": "李晓梅"},
        {"ticket": "Q20260612-002", "kind": "suggestion", "topic": "环境",
         "text": "建议增加垃圾分类宣传", "submitted_at": dt.datetime(2026, 6, 12, 15)},
    ],
    "survey_response": [
        {"key": f"s{i}", "survey": "2026年上半年测评",
         "rating": "satisfied" if i < 8 else "dissatisfied",
         "submitted_at": dt.datetime(2026, 6, 1, 10)} for i in range(10)
    ],
}


def mini() -> dict[str, Any]:
    return copy.deepcopy(MINI)


def load(cache: Cache, config: Config, content: dict[str, Any]) -> None:
    with unit_of_work(cache) as session:
        import_content(session, RawContent.from_mapping(content), config)


@pytest.fixture
def loaded(cache: Cache, config: Config) -> Cache:
    load(cache, config, mini())
    return cache


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """A real hub on 127.0.0.1 with fresh keys (tests/sync_support.py)."""
    from tests.sync_support import running_hub

    with running_hub(tmp_path) as h:
        yield h


@pytest.fixture
def dev(tmp_path: Path, hub: Hub) -> Iterator[Device]:
    """A device cache configured to sync from `hub`."""
    from tests.sync_support import device

    with device(tmp_path, hub) as d:
        yield d
