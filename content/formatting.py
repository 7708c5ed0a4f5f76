"""How amounts and dates read to residents (one place, used by CLI, kiosk and boards)."""

from __future__ import annotations

import datetime as dt
import unicodedata


def yuan(fen: int) -> str:
    """12345600 → '123,456.00' (amounts are kept in integer fen; never floats)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def display_width(text: str) -> int:
    """Columns a terminal gives `text`: CJK and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int, align: str = "<") -> str:
    """`text` padded with spaces to `width` terminal columns (str.format counts characters)."""
    fill = " " * max(0, width - display_width(text))
    return text + fill if align == "<" else fill + text


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def period_text(start: dt.date | None, end: dt.date | None) -> str:
    if start is None and end is None:
        return ""
    if start is not None and end is not None:
        return f"{cn_date(start)}至{cn_date(end)}"
    return cn_date(start or end)  # type: ignore[arg-type]
