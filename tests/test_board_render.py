"""Rendering with the real GNU Unifont: ink, Chinese line breaking, pages, substitutions."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from display_driver.bitmap import Bitmap
from display_driver.render import (
    NO_LINE_END,
    NO_LINE_START,
    REPLACEMENT,
    FontNotFoundError,
    Renderer,
    bitmap_from_image,
    bitmap_to_image,
    default_renderer,
    find_unifont,
)


@pytest.fixture(scope="module")
def r() -> Renderer:
    return default_renderer()


def test_unifont_is_found() -> None:
    assert find_unifont().suffix in (".otf", ".ttf")


def test_missing_font_names_the_package() -> None:
    with pytest.raises(FontNotFoundError, match="fonts-unifont"):
        Renderer(font_path="/nonexistent/unifont.otf")


@pytest.mark.parametrize("ch", [*list("居务公开停水通知功播。，（）"), "A", "9", "？"])
def test_characters_have_ink_and_are_not_tofu(r: Renderer, ch: str) -> None:
    assert r.char_problem(ch) is None
    res = r.render(ch, 16, 16)
    assert res.problems == ()
    assert res.pages[0].ink() > 0


def test_distinct_chinese_glyphs_differ(r: Renderer) -> None:
    a = r.render("居", 16, 16).pages[0]
    b = r.render("务", 16, 16).pages[0]
    assert a != b


def test_exact_geometry_and_mode(r: Renderer) -> None:
    for w, h in [(64, 16), (128, 32), (192, 64)]:
        res = r.render("居务公开", w, h)
        assert all((p.width, p.height) == (w, h) for p in res.pages)
        img = bitmap_to_image(res.pages[0])
        assert img.mode == "1"


def test_crisp_one_bit_strokes(r: Renderer) -> None:
    # 一 in Unifont is a single horizontal stroke one pixel thick: no anti-aliased rows.
    rows = [row for row in r.render("一", 16, 16).pages[0].to_strings() if "#" in row]
    assert len(rows) == 1


def test_line_never_starts_with_closing_punctuation(r: Renderer) -> None:
    # 4 full-width characters per 64-px line; the 5th character would be "，".
    lines = r.wrap("居务公开，停水通知。", 64)
    assert all(ln[0] not in NO_LINE_START for ln in lines if ln)
    assert "".join(lines) == "居务公开，停水通知。"


def test_line_never_ends_with_opening_bracket(r: Renderer) -> None:
    lines = r.wrap("居务公（开）停水", 64)
    assert all(ln[-1] not in NO_LINE_END for ln in lines if ln)
    assert "".join(lines) == "居务公（开）停水"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="居务公开停水通知。，、；：？！）」』》…（「『《", max_size=80),
       st.sampled_from([48, 64, 96]))
def test_kinsoku_and_nothing_lost(text: str, width: int) -> None:
    r = default_renderer()
    lines = r.wrap(text, width)
    assert "".join(lines) == text
    for ln in lines:
        assert r._width(ln) <= width
    for prev, nxt in itertools.pairwise(lines):
        if nxt[0] in NO_LINE_START or prev[-1] in NO_LINE_END:
            # a rule may only be broken when the line offers no legal break point at all
            assert not any(
                prev[k] not in NO_LINE_START and prev[k - 1] not in NO_LINE_END
                for k in range(1, len(prev))
            ), (prev, nxt)


def test_latin_words_stay_whole(r: Renderer) -> None:
    lines = r.wrap("hello world again", 64)
    assert lines == ["hello", "world", "again"]


def test_long_text_paginates_never_cut(r: Renderer) -> None:
    text = "本小区定于下周二上午九点至十二点进行二次供水设施清洗，届时停水，请居民提前储水。"
    res = r.render(text, 64, 16)
    assert len(res.pages) == len(res.lines) > 5
    assert "".join(res.lines) == text
    assert all(p.ink() > 0 for p in res.pages)
    two_rows = r.render(text, 64, 32)
    assert len(two_rows.pages) == (len(two_rows.lines) + 1) // 2


def test_explicit_newlines_start_lines(r: Renderer) -> None:
    assert r.render("通知\r\n停水", 128, 32).lines == ("通知", "停水")


def test_emoji_and_control_characters_replaced_and_reported(r: Renderer) -> None:
    res = r.render("停水😀\x07\u200b通知", 128, 16)
    assert [p.char for p in res.problems] == ["😀", "\x07", "\u200b"]
    assert all(p.replacement == REPLACEMENT for p in res.problems)
    assert res.lines == ("停水□□□通知",)
    assert "U+1F600" in res.problems[0].reason
    assert not res.ok


def test_board_smaller_than_font_is_refused(r: Renderer) -> None:
    with pytest.raises(ValueError, match="smaller than one"):
        r.render("字", 64, 8)


def test_empty_text_is_one_blank_page(r: Renderer) -> None:
    res = r.render("", 64, 16)
    assert res.pages == (Bitmap.blank(64, 16),)


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=8 * 16, max_size=8 * 16))
def test_bitmap_image_round_trip(raw: bytes) -> None:
    bmp = Bitmap(64, 16, raw)
    assert bitmap_from_image(bitmap_to_image(bmp)) == bmp
    assert Bitmap.from_strings(bmp.to_strings()) == bmp
    assert Bitmap.from_pixels(64, 16, bmp.pixels()) == bmp


def test_bitmap_validation() -> None:
    with pytest.raises(ValueError):
        Bitmap(10, 1, b"\xff\xff")  # padding bits set
    with pytest.raises(ValueError):
        Bitmap(8, 2, b"\x00")
    with pytest.raises(ValueError):
        Bitmap(0, 1, b"")


def test_render_speed_192x64(r: Renderer) -> None:
    import time

    text = "居务公开：本小区将于五月一日停水，请居民提前做好准备。" * 3
    start = time.perf_counter()
    for _ in range(20):
        r.render(text, 192, 64)
    assert (time.perf_counter() - start) / 20 < 0.1
