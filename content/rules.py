"""Calendar rules of 居务公开 (shared/domain.md; docs/domain-rules.md cites the seeds).

Working days follow the State Council holiday schedule through `chinese_calendar`, which
only knows years whose schedule has been announced. For a later year we count Monday to
Friday and say that the result is an estimate, rather than refusing to give a due date.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import chinese_calendar


@dataclass(frozen=True)
class DueDate:
    on: dt.date
    estimate: bool  # some day in the count fell in a year without a published schedule


@functools.lru_cache(maxsize=4096)
def is_working_day(day: dt.date) -> tuple[bool, bool]:
    """(is it a working day, is that an estimate). Cached: chinese_calendar is slow-ish."""
    try:
        return bool(chinese_calendar.is_workday(day)), False
    except NotImplementedError:
        return day.weekday() < 5, True


def add_working_days(start: dt.date, days: int) -> DueDate:
    """The date `days` working days after `start` (start itself not counted)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    day, counted, estimate = start, 0, False
    while counted < days:
        day += dt.timedelta(days=1)
        working, guessed = is_working_day(day)
        estimate = estimate or guessed
        counted += working
    return DueDate(day, estimate)


def working_days_between(earlier: dt.date, later: dt.date) -> int:
    """Working days after `earlier` up to and including `later` (0 if not later)."""
    count, day = 0, earlier
    while day < later:
        day += dt.timedelta(days=1)
        count += is_working_day(day)[0]
    return count


def reply_due(submitted: dt.date, *, complaint: bool, reply_working_days: int,
              named_complaint_days: int) -> DueDate:
    """Deadline of a resident's question (working days) or named complaint (calendar days).

    Source: the procedure's feedback step (反馈) in shared/domain.md: a written answer within
    10 working days; a signed complaint gets its result within 15 days.
    """
    if complaint:
        return DueDate(submitted + dt.timedelta(days=named_complaint_days), False)
    return add_working_days(submitted, reply_working_days)


def satisfaction_percent(satisfied: int, basic: int, total: int) -> float | None:
    """Share of 满意 + 基本满意 answers; None without answers."""
    if total <= 0:
        return None
    return 100.0 * (satisfied + basic) / total
