"""content.schedule: what a board shows when, checked against a brute-force oracle."""

from __future__ import annotations

import datetime as dt

from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from content.db import Cache
from content.models import Announcement
from content.schedule import (
    FALLBACK_UID,
    ScheduledItem,
    decide,
    fallback_text,
    is_active,
    timeline,
)

BASE = dt.datetime(2026, 6, 1)  # a Monday
NAME = "幸福里社区"
BOARDS = ("hall", "gate")
RULES = (
    "FREQ=DAILY;BYHOUR=22;BYMINUTE=0",               # every night, often across midnight
    "FREQ=WEEKLY;BYDAY=FR;BYHOUR=23;BYMINUTE=30",    # Friday late
    "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=8;BYMINUTE=0",
    "FREQ=DAILY;BYHOUR=6,17;BYMINUTE=30",
    "FREQ=HOURLY;INTERVAL=5;BYMINUTE=0;BYSECOND=0",  # occurrences closer than long durations
)


def oracle_active(item: ScheduledItem, at: dt.datetime) -> bool:
    """Independent of the implementation: walk every occurrence from the start."""
    if at < item.valid_from or (item.valid_until is not None and at >= item.valid_until):
        return False
    if item.rrule is None:
        return True
    assert item.duration_minutes is not None
    dur = dt.timedelta(minutes=item.duration_minutes)
    for start in rrulestr(item.rrule, dtstart=item.valid_from):
        if start > at:
            return False
        if start <= at < start + dur:
            return True
    return False


@st.composite
def items(draw: st.DrawFn, uid: str) -> ScheduledItem:
    valid_from = BASE + dt.timedelta(minutes=15 * draw(st.integers(0, 14 * 96)))
    valid_until = draw(st.one_of(st.none(), st.integers(1, 20 * 96).map(
        lambda q: valid_from + dt.timedelta(minutes=15 * q))))
    recurring = draw(st.booleans())
    return ScheduledItem(
        uid=uid,
        text=f"通知{uid}",
        valid_from=valid_from,
        valid_until=valid_until,
        rrule=draw(st.sampled_from(RULES)) if recurring else None,
        duration_minutes=draw(st.sampled_from([1, 30, 90, 480, 1500])) if recurring else None,
        priority=draw(st.integers(0, 2)),
        boards=tuple(draw(st.lists(st.sampled_from(BOARDS), unique=True, max_size=2))),
        emergency=draw(st.integers(0, 5)) == 0,
    )


@st.composite
def schedules(draw: st.DrawFn) -> list[ScheduledItem]:
    n = draw(st.integers(0, 6))
    return [draw(items(f"a{i}")) for i in range(n)]


instants = st.integers(0, 21 * 86400).map(lambda s: BASE + dt.timedelta(seconds=s))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules(), st.sampled_from(BOARDS), instants, st.sampled_from([1, 20, 45]))
def test_decision_agrees_with_oracle(sched: list[ScheduledItem], board: str,
                                     at: dt.datetime, rotate_s: int) -> None:
    d = decide(sched, board, at, community_name=NAME, rotate_s=rotate_s)
    active = [i for i in sched if i.targets(board) and oracle_active(i, at)]
    emergencies = [i for i in active if i.emergency]
    by_uid = {i.uid: i for i in sched}
    assert d.skipped == ()
    if not active:
        assert d.showing.is_fallback and d.showing.text == fallback_text(NAME, at.date())
        return
    chosen = by_uid[d.showing.uid]
    assert chosen in active                      # only what is valid now, for this board
    assert chosen.targets(board)
    if emergencies:                              # an emergency always wins while valid
        assert chosen.emergency and d.showing.emergency
        pool = emergencies
    else:                                        # and never shows outside its window
        assert not d.showing.emergency
        pool = active
    assert chosen.priority == max(i.priority for i in pool)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules(), st.sampled_from(BOARDS), instants)
def test_answer_holds_until_it_says(sched: list[ScheduledItem], board: str,
                                    at: dt.datetime) -> None:
    d = decide(sched, board, at, community_name=NAME)
    assert at < d.until <= at + dt.timedelta(days=1)
    span = d.until - at
    for t in (at + span / 2, d.until - dt.timedelta(microseconds=1)):
        if t > at:
            assert decide(sched, board, t, community_name=NAME).showing == d.showing


@settings(max_examples=100, deadline=None)
@given(schedules(), instants)
def test_deterministic_and_order_independent(sched: list[ScheduledItem],
                                             at: dt.datetime) -> None:
    a = decide(sched, "hall", at, community_name=NAME)
    b = decide(list(reversed(sched)), "hall", at, community_name=NAME)
    assert a == b


def test_weekly_window_crossing_midnight() -> None:
    friday_night = ScheduledItem("night", "夜间施工，请绕行", BASE,
                                 rrule="FREQ=WEEKLY;BYDAY=FR;BYHOUR=22;BYMINUTE=0",
                                 duration_minutes=8 * 60)
    fri = dt.datetime(2026, 6, 5)
    assert not is_active(friday_night, fri.replace(hour=21, minute=59))
    assert is_active(friday_night, fri.replace(hour=22))
    assert is_active(friday_night, fri + dt.timedelta(hours=29, minutes=59))  # Sat 05:59
    assert not is_active(friday_night, fri + dt.timedelta(hours=30))          # Sat 06:00
    d = decide([friday_night], "hall", fri.replace(hour=21), community_name=NAME)
    assert d.showing.is_fallback and d.until == fri.replace(hour=22)
    d = decide([friday_night], "hall", fri.replace(hour=23), community_name=NAME)
    assert d.showing.uid == "night"
    assert d.until == fri + dt.timedelta(days=1)  # midnight: bounded, re-asked then
    d = decide([friday_night], "hall", fri + dt.timedelta(days=1), community_name=NAME)
    assert d.showing.uid == "night" and d.until == fri + dt.timedelta(hours=30)


def test_emergency_preempts_at_once_and_reverts_by_itself() -> None:
    notice = ScheduledItem("notice", "社区通知", BASE, priority=5)
    water = ScheduledItem("water", "紧急停水", BASE + dt.timedelta(hours=10),
                          BASE + dt.timedelta(hours=10, minutes=30), emergency=True)
    changes = timeline([notice, water], "hall", BASE, BASE + dt.timedelta(hours=12),
                       community_name=NAME)
    assert [(t - BASE, s.uid) for t, s in changes] == [
        (dt.timedelta(0), "notice"),
        (dt.timedelta(hours=10), "water"),
        (dt.timedelta(hours=10, minutes=30), "notice"),
    ]


def test_targeting_and_fallback() -> None:
    gate_only = ScheduledItem("g", "大门通知", BASE, boards=("gate",))
    d = decide([gate_only], "hall", BASE, community_name=NAME)
    assert d.showing.uid == FALLBACK_UID
    assert d.showing.text == "幸福里社区\n6月1日 星期一"
    assert d.until == BASE + dt.timedelta(days=1)  # the date on the board changes
    assert decide([gate_only], "gate", BASE, community_name=NAME).showing.uid == "g"


def test_equal_priorities_take_turns() -> None:
    sched = [ScheduledItem(u, u, BASE, priority=1) for u in ("c", "a", "b")]
    sched.append(ScheduledItem("low", "low", BASE))
    changes = timeline(sched, "hall", BASE, BASE + dt.timedelta(seconds=60),
                       community_name=NAME, rotate_s=20)
    assert [s.uid for _, s in changes] == ["a", "b", "c"]
    assert [(t - BASE).seconds for t, _ in changes] == [0, 20, 40]
    assert decide(sched, "hall", BASE, community_name=NAME).rotating == ("a", "b", "c")


def test_unusable_rules_are_skipped_and_named() -> None:
    bad = ScheduledItem("bad", "x", BASE, rrule="FREQ=SOMETIMES", duration_minutes=5)
    nodur = ScheduledItem("nodur", "y", BASE, rrule="FREQ=DAILY")
    d = decide([bad, nodur], "hall", BASE, community_name=NAME)
    assert d.showing.is_fallback
    assert [u for u, _ in d.skipped] == ["bad", "nodur"]
    assert "duration_minutes" in d.skipped[1][1]


def test_back_to_back_occurrences_are_one_showing() -> None:
    hourly = ScheduledItem("h", "h", BASE, rrule="FREQ=HOURLY", duration_minutes=90,
                           valid_until=BASE + dt.timedelta(hours=5))
    d = decide([hourly], "hall", BASE + dt.timedelta(minutes=10), community_name=NAME)
    assert d.showing.uid == "h" and d.until == BASE + dt.timedelta(hours=5)


def test_snapshot_from_cache(loaded: Cache) -> None:
    with loaded.sessions() as s:
        snap = [ScheduledItem.from_announcement(a) for a in s.scalars(select(Announcement))]
    water, clinic = sorted(snap, key=lambda i: i.uid, reverse=True)
    assert water.emergency and water.boards == ()
    assert clinic.boards == ("hall",) and clinic.duration_minutes == 240
    saturday = dt.datetime(2026, 6, 20, 9)
    assert decide(snap, "hall", saturday, community_name=NAME).showing.uid == "ann-clinic"
    assert decide(snap, "gate", saturday, community_name=NAME).showing.is_fallback
    during_water = dt.datetime(2026, 6, 15, 9)
    assert decide(snap, "gate", during_water, community_name=NAME).showing.uid == "ann-water"
