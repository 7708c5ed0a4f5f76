"""What an LED board shows at a given moment: a pure function of announcements and time.

The driver asks once per tick, with a fresh snapshot of the cache, so that a synced change
reaches the boards without a restart; everything here is deterministic for a given instant,
so tests use fixed clocks instead of sleeping. Times are naive community-local datetimes
(Asia/Shanghai has no daylight-saving time, so local arithmetic is exact).

Rules, in order:

1. Only announcements targeted at the board count (``boards`` empty = every board).
2. An announcement is *active* inside its validity window ``[valid_from, valid_until)``;
   with an RFC 5545 ``rrule`` (dtstart = ``valid_from``) only during each occurrence
   ``[start, start + duration_minutes)``, which may run past midnight.
3. If an emergency announcement is active, only emergencies compete: it pre-empts the rest
   at once and, when it ends, the schedule reverts by itself.
4. The highest priority wins; equal priorities take turns of ``rotate_s`` seconds, in uid
   order, counted from a fixed epoch so every process agrees.
5. Nothing active: the fallback item, the community's name and today's date.

:func:`decide` also says until when its answer holds, so the driver can sleep till then.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dateutil.rrule import rrulebase, rrulestr

from content.models import Announcement

FALLBACK_UID = "fallback"
ROTATION_EPOCH = dt.datetime(2000, 1, 1)
MAX_MERGED_OCCURRENCES = 1000
"""Back-to-back occurrences merged into one showing before we stop looking ahead; the
answer is then simply re-evaluated at that point (a conservative ``until``)."""
WEEKDAYS_CN = "一二三四五六日"


class RuleError(ValueError):
    """An announcement's recurrence cannot be evaluated (bad rule or no duration)."""


@dataclass(frozen=True)
class ScheduledItem:
    """A plain snapshot of an :class:`~content.models.Announcement`, so scheduling needs no
    session and can be tested with generated data."""

    uid: str
    text: str
    valid_from: dt.datetime
    valid_until: dt.datetime | None = None
    rrule: str | None = None
    duration_minutes: int | None = None
    priority: int = 0
    boards: tuple[str, ...] = ()
    emergency: bool = False

    @classmethod
    def from_announcement(cls, a: Announcement) -> ScheduledItem:
        return cls(a.uid, a.text, a.valid_from, a.valid_until, a.rrule or None,
                   a.duration_minutes, a.priority, tuple(a.boards or ()), a.emergency)

    def targets(self, board: str) -> bool:
        return not self.boards or board in self.boards


@dataclass(frozen=True)
class Showing:
    """What a board should display: an announcement, or the fallback item."""

    uid: str
    text: str
    priority: int = 0
    emergency: bool = False

    @property
    def is_fallback(self) -> bool:
        return self.uid == FALLBACK_UID


@dataclass(frozen=True)
class Decision:
    """The answer for one board at one instant, and how long it holds.

    ``until`` is conservative: the answer cannot change before it, and may stay the same
    after it (ask again then). ``skipped`` names announcements whose rule is unusable.
    """

    showing: Showing
    until: dt.datetime
    rotating: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Activity:
    active: bool
    change_at: dt.datetime | None  # end of the showing if active, else the next start


@functools.lru_cache(maxsize=512)
def _rule(rule: str, dtstart: dt.datetime) -> rrulebase:
    try:
        parsed: rrulebase = rrulestr(rule, dtstart=dtstart, cache=True)
    except (ValueError, TypeError) as e:
        raise RuleError(f"not a valid RFC 5545 rule {rule!r}: {e}") from e
    return parsed


def _activity(item: ScheduledItem, at: dt.datetime) -> _Activity:
    until = item.valid_until
    if until is not None and (at >= until or until <= item.valid_from):
        return _Activity(False, None)
    if item.rrule is None:
        if at < item.valid_from:
            return _Activity(False, item.valid_from)
        return _Activity(True, until)
    if not item.duration_minutes or item.duration_minutes <= 0:
        raise RuleError("a recurring announcement needs duration_minutes")
    rule = _rule(item.rrule, item.valid_from)
    dur = dt.timedelta(minutes=item.duration_minutes)
    starts = [s for s in rule.between(at - dur, at, inc=True) if s <= at < s + dur]
    if not starts:
        nxt = rule.after(at)
        if nxt is None or (until is not None and nxt >= until):
            return _Activity(False, None)
        return _Activity(False, nxt)
    last = max(starts)
    end = last + dur
    for _ in range(MAX_MERGED_OCCURRENCES):  # a next showing that starts before this ends
        if until is not None and end >= until:
            return _Activity(True, until)
        nxt = rule.after(last)
        if nxt is None or nxt > end:
            break
        last, end = nxt, max(end, nxt + dur)
    return _Activity(True, end if until is None else min(end, until))


def is_active(item: ScheduledItem, at: dt.datetime) -> bool:
    """Whether ``item`` is inside its window (and one of its occurrences) at ``at``.

    Raises:
        RuleError: the recurrence rule cannot be evaluated.
    """
    return _activity(item, at).active


def fallback_text(community_name: str, day: dt.date) -> str:
    """What a board shows when nothing is scheduled: who we are and today's date."""
    return f"{community_name}\n{day.month}月{day.day}日 星期{WEEKDAYS_CN[day.weekday()]}"


def _next_midnight(at: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(at.date() + dt.timedelta(days=1), dt.time())


def decide(items: Iterable[ScheduledItem], board: str, at: dt.datetime, *,
           community_name: str, rotate_s: int = 20) -> Decision:
    """What ``board`` shows at ``at`` and until when that answer holds (rules above)."""
    if rotate_s < 1:
        raise ValueError("rotate_s must be at least 1 second")
    until = _next_midnight(at)  # the fallback's date changes; also bounds every answer
    active: list[ScheduledItem] = []
    skipped: list[tuple[str, str]] = []
    for item in items:
        if not item.targets(board):
            continue
        try:
            act = _activity(item, at)
        except RuleError as e:
            skipped.append((item.uid, str(e)))
            continue
        if act.active:
            active.append(item)
        if act.change_at is not None and act.change_at > at:
            until = min(until, act.change_at)
    pool = [i for i in active if i.emergency] or active
    if not pool:
        text = fallback_text(community_name, at.date())
        return Decision(Showing(FALLBACK_UID, text), until, (), tuple(skipped))
    top = max(i.priority for i in pool)
    tied = sorted((i for i in pool if i.priority == top), key=lambda i: (i.uid, i.text))
    chosen = tied[0]
    if len(tied) > 1:
        slot, _ = divmod(int((at - ROTATION_EPOCH).total_seconds()), rotate_s)
        chosen = tied[slot % len(tied)]
        until = min(until, ROTATION_EPOCH + dt.timedelta(seconds=(slot + 1) * rotate_s))
    return Decision(Showing(chosen.uid, chosen.text, chosen.priority, chosen.emergency),
                    until, tuple(i.uid for i in tied) if len(tied) > 1 else (),
                    tuple(skipped))


def timeline(items: Sequence[ScheduledItem], board: str, start: dt.datetime,
             end: dt.datetime, *, community_name: str,
             rotate_s: int = 20) -> list[tuple[dt.datetime, Showing]]:
    """Every change of what ``board`` shows in ``[start, end)``: (from, showing) pairs,
    consecutive duplicates merged. Useful for previews and for tests."""
    out: list[tuple[dt.datetime, Showing]] = []
    at = start
    while at < end:
        d = decide(items, board, at, community_name=community_name, rotate_s=rotate_s)
        if not out or out[-1][1] != d.showing:
            out.append((at, d.showing))
        at = d.until
    return out
