"""Chinese line breaking for labels: Kivy breaks only at spaces, or anywhere when a "word"
(a run of Chinese without spaces) is wider than the line, so a line may start with "，".

:func:`break_lines` fills lines greedily with the font's own widths and applies the usual
rules (禁则): no line starts with closing punctuation (，。、；：？！）」…), no line ends with
opening punctuation (（「“…), and Latin words and numbers (2026, 1,234.50, Q20261201-007)
stay whole. The label then gets the lines joined by "\\n" and Kivy has nothing to break.
No Kivy here: the width function is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable

NO_LINE_START = frozenset(
    "，。、；：？！）」』】》〉〕］｝”’…‥～·・ー%‰℃"
    ",.;:?!)]}"
)
NO_LINE_END = frozenset("（「『【《〈〔［｛“‘([{¥$￥")
# A Latin word or number with its inner punctuation, a run of spaces, or one character.
TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.,:/_\-][A-Za-z0-9]+)*|\s+|.")


def break_lines(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """`text` as lines no wider than `width`.

    Exceptions: a single token wider than a line stays whole, and closing punctuation that
    cannot take a character along hangs past the margin.

    Each "\\n" in `text` starts a new line; spaces at a break are dropped.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_paragraph(paragraph, width, measure))
    return lines


def _paragraph(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    lines: list[str] = []
    line: list[str] = []
    used = 0.0
    for token in TOKEN.findall(text):
        size = measure(token)
        if line and not token.isspace() and used + size > width:
            carry: list[str] = []
            # The token may not start a line: take the line's last token(s) along with it.
            while len(line) > 1 and _head(carry, token) in NO_LINE_START:
                carry.insert(0, line.pop())
            if _head(carry, token) in NO_LINE_START:
                # Nothing left to take along (a number filling the line): the punctuation
                # hangs past the margin instead (悬挂标点).
                line.extend(carry)
                line.append(token)
                used += size + sum(measure(t) for t in carry)
                continue
            # The line may not end with an opening bracket: move it down too.
            while len(line) > 1 and (line[-1].isspace() or line[-1][-1] in NO_LINE_END):
                carry.insert(0, line.pop())
            while line and line[-1].isspace():
                line.pop()
            lines.append("".join(line))
            while carry and carry[0].isspace():
                carry.pop(0)
            line = carry
            used = sum(measure(t) for t in line)
        if not line and token.isspace():
            continue
        line.append(token)
        used += size
    if line or not lines:
        lines.append("".join(line).rstrip())
    return lines


def _head(carry: list[str], token: str) -> str:
    """The first character the next line would start with (spaces at a break are dropped)."""
    return next((t for t in carry if not t.isspace()), token)[0]


def violations(lines: list[str]) -> list[str]:
    """Lines that break the rules (for tests and the bench): what a reader would notice."""
    bad = [line for line in lines[1:] if line and line[0] in NO_LINE_START]
    bad += [line for line in lines[:-1] if line and line[-1] in NO_LINE_END]
    return bad


__all__ = ["NO_LINE_END", "NO_LINE_START", "break_lines", "violations"]
