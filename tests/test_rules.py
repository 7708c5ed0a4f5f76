from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from content.formatting import yuan
from content.rules import add_working_days, reply_due, satisfaction_percent, working_days_between


def test_working_days_skip_weekends_and_holidays() -> None:
    # 2026-09-30 (Wed) + 1 working day: 10-01..10-07 National Day, 10-08 is working.
    assert add_working_days(dt.date(2026, 9, 30), 1).on == dt.date(2026, 10, 8)
    # 端午节 2026-06-19 (Friday) is off.
    assert add_working_days(dt.date(2026, 6, 12), 10).on == dt.date(2026, 6, 29)


def test_years_without_a_published_schedule_are_estimates() -> None:
    due = add_working_days(dt.date(2026, 12, 24), 10)
    assert due.estimate  # runs into 2027, whose holidays are not in chinese_calendar yet
    assert due.on.weekday() < 5
    assert not add_working_days(dt.date(2026, 6, 1), 10).estimate


def test_named_complaint_gets_fifteen_calendar_days() -> None:
    due = reply_due(dt.date(2026, 6, 1), complaint=True, reply_working_days=10,
                    named_complaint_days=15)
    assert due.on == dt.date(2026, 6, 16) and not due.estimate


@given(st.dates(dt.date(2024, 1, 1), dt.date(2029, 12, 31)), st.integers(0, 40))
def test_add_and_count_working_days_agree(start: dt.date, n: int) -> None:
    due = add_working_days(start, n)
    assert working_days_between(start, due.on) == n


def test_satisfaction_rate() -> None:
    assert satisfaction_percent(80, 9, 100) == 89.0
    assert satisfaction_percent(0, 0, 0) is None


@given(st.integers(-10**12, 10**12))
def test_yuan_formatting_round_trips(fen: int) -> None:
    text = yuan(fen)
    assert int(text.replace(",", "").replace(".", "")) == fen


def test_padding_counts_terminal_columns() -> None:
    from content.formatting import display_width, pad

    assert display_width("财务ab") == 6
    assert pad("收入", 6) == "收入  "
    assert pad("1.00", 6, ">") == "  1.00"
    assert pad("很长的类别名称", 4) == "很长的类别名称"  # never cut
