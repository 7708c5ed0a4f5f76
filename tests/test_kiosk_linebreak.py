"""Chinese line breaking (kiosk.linebreak): no line starts with closing punctuation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.linebreak import NO_LINE_END, NO_LINE_START, TOKEN, break_lines, violations

TEXT = ("经社区居民代表会议讨论通过，现将2026年第一季度财务收支情况公开如下：收入85,000.00元，"
        "支出27,234.50元（含3号楼电梯维修费），期末结余67,765.50元。如有疑问，请于公示期内"
        "向社区居务监督委员会反映！联系电话：010-12345678。")


def cjk_width(piece: str) -> float:
    """Like a CJK font: Chinese characters one unit, Latin letters and digits half."""
    return sum(0.5 if ord(c) < 0x2E80 else 1.0 for c in piece)


def test_lines_fit_and_keep_every_character() -> None:
    for width in range(4, 40):
        lines = break_lines(TEXT, width, cjk_width)
        assert "".join(lines) == TEXT
        # Only a number wider than the line, or punctuation hanging after it, overflows.
        assert all(cjk_width(line) <= width or TOKEN.fullmatch(line.rstrip("，。："))
                   for line in lines), lines
        assert violations(lines) == [], (width, lines)


def test_punctuation_never_starts_a_line() -> None:
    # Width 4 would put "，" first on line 2 with a naive break; it takes "一" along.
    lines = break_lines("一二三四五，六七八。", 4, cjk_width)
    assert lines == ["一二三四", "五，六七", "八。"]
    assert break_lines("甲乙丙丁」。戊", 4, cjk_width) == ["甲乙丙", "丁」。戊"]


def test_opening_bracket_never_ends_a_line() -> None:
    lines = break_lines("一二三（四五六）", 4, cjk_width)
    assert all(line[-1] not in NO_LINE_END for line in lines[:-1]), lines
    assert "".join(lines) == "一二三（四五六）"


def test_numbers_and_ticket_numbers_stay_whole() -> None:
    lines = break_lines("支出合计27,234.50元，工单Q20261201-007已答复", 8, cjk_width)
    joined = "\n".join(lines)
    assert "27,234.50" in joined.replace("\n", "") and "27,234.50" in lines[1] + lines[0]
    assert any("Q20261201-007" in line for line in lines)


def test_newlines_and_spaces() -> None:
    assert break_lines("第一段\n第二段", 10, cjk_width) == ["第一段", "第二段"]
    assert break_lines("", 10, cjk_width) == [""]
    assert break_lines("ab cd ef", 1.2, cjk_width) == ["ab", "cd", "ef"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="一二三四五六七八九十财务公开，。、；：？！）」（「“”0123456789 .,",
               max_size=80), st.integers(min_value=3, max_value=30))
def test_rules_hold_for_any_text(text: str, width: int) -> None:
    lines = break_lines(text, width, cjk_width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    # A rule can only give way when a whole line is made of punctuation.
    for bad in violations(lines):
        assert all(c in NO_LINE_START | NO_LINE_END or c == " " for c in bad) or len(
            [ln for ln in lines if ln]) <= 1, (text, width, lines)
