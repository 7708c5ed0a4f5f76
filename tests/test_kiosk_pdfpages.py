"""PDF attachments rendered to page pictures (kiosk/pdfpages.py), on real PDF files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from kiosk.pdfpages import (
    MAX_HEIGHT,
    MAX_WIDTH,
    MIN_WIDTH,
    PageRenderer,
    PdfUnreadable,
    is_pdf,
    page_cache_dir,
)
from tests.pdf_support import COLOURS, GARBAGE_PDF, encrypted_pdf_bytes, pdf_bytes, write_pdf


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def centre(rgb: bytes, width: int, height: int) -> tuple[int, ...]:
    i = ((height // 2) * width + width // 2) * 3
    return tuple(rgb[i:i + 3])


def close_to(got: tuple[int, ...], want: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(got, want, strict=True))


def test_pages_render_at_the_width_asked_each_its_own(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "plan.pdf", 3)
    renderer = PageRenderer(page_cache_dir(tmp_path / "data"))
    assert renderer.count(pdf) == 3
    for index in range(3):
        page = renderer.page(pdf, sha(pdf), index, 600)
        assert page.width == 600 and abs(page.height - 600 * 842 / 595) < 1
        assert len(page.rgb) == page.width * page.height * 3
        assert close_to(centre(page.rgb, page.width, page.height), COLOURS[index])
        with Image.open(page.path) as png:  # the cached file holds the same picture
            assert png.size == (page.width, page.height)
            assert png.convert("RGB").tobytes() == page.rgb
    names = sorted(p.name for p in (tmp_path / "data" / "pdf-pages").iterdir())
    assert names == [f"{sha(pdf)}-{i:04d}-600.png" for i in (1, 2, 3)]


def test_shown_again_the_page_comes_from_the_cache(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "plan.pdf", 1)
    digest = sha(pdf)
    renderer = PageRenderer(tmp_path / "cache")
    first = renderer.page(pdf, digest, 0, 500)
    inode = first.path.stat().st_ino
    pdf.write_bytes(b"gone")  # a cache hit does not even read the PDF
    again = renderer.page(pdf, digest, 0, 500)
    assert again.path == first.path and again.path.stat().st_ino == inode
    assert again.rgb == first.rgb
    # Another width is another picture (and needs the PDF).
    with pytest.raises(PdfUnreadable):
        renderer.page(pdf, digest, 0, 700)


def test_a_damaged_cached_page_is_rendered_again(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "plan.pdf", 1)
    renderer = PageRenderer(tmp_path / "cache")
    first = renderer.page(pdf, sha(pdf), 0, 400)
    first.path.write_bytes(first.path.read_bytes()[:200])  # cut short
    again = renderer.page(pdf, sha(pdf), 0, 400)
    assert again.rgb == first.rgb


def test_width_is_clamped_and_tall_pages_are_capped(tmp_path: Path) -> None:
    renderer = PageRenderer(tmp_path / "cache")
    a4 = write_pdf(tmp_path / "a4.pdf", 1)
    assert renderer.page(a4, sha(a4), 0, 10_000).width == MAX_WIDTH
    assert renderer.page(a4, sha(a4), 0, 3).width == MIN_WIDTH
    strip = write_pdf(tmp_path / "strip.pdf", 1, size=(100, 5000))  # a receipt, 50× as tall
    page = renderer.page(strip, sha(strip), 0, MAX_WIDTH)
    assert page.height <= MAX_HEIGHT and page.height <= 3 * MAX_WIDTH
    assert page.width == pytest.approx(page.height * 100 / 5000, abs=1)


def test_unreadable_pdfs_say_why(tmp_path: Path) -> None:
    renderer = PageRenderer(tmp_path / "cache")
    cases = {"garbage.pdf": (GARBAGE_PDF, "damaged"),
             "locked.pdf": (encrypted_pdf_bytes(), "encrypted"),
             "cut.pdf": (pdf_bytes(2)[:400], "damaged"),
             "empty.pdf": (b"", "damaged")}
    for name, (data, reason) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(PdfUnreadable) as err:
            renderer.count(path)
        assert err.value.reason == reason, name
        with pytest.raises(PdfUnreadable):
            renderer.page(path, "0" * 64, 0, 500)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
    with pytest.raises(ValueError, match="not a sha256"):
        renderer.page(tmp_path / "garbage.pdf", "../../etc/passwd", 0, 500)
    with pytest.raises(IndexError):
        renderer.page(write_pdf(tmp_path / "one.pdf", 1), "1" * 64, 1, 500)


def test_cache_is_trimmed_least_recently_shown_first(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "plan.pdf", 4)
    renderer = PageRenderer(tmp_path / "cache")
    pages = [renderer.page(pdf, sha(pdf), i, 300) for i in range(4)]
    for age, page in enumerate(reversed(pages)):  # page 4 oldest ... page 1 newest
        os.utime(page.path, (1_000_000 + age * 10, 1_000_000 + age * 10))
    sizes = [p.path.stat().st_size for p in pages]
    renderer.max_bytes = sizes[0] + sizes[1]
    freed = renderer.trim()
    assert freed == sizes[2] + sizes[3]
    assert [p.path.exists() for p in pages] == [True, True, False, False]
    renderer.page(pdf, sha(pdf), 3, 300)  # shown again: newest now
    renderer.max_bytes = sizes[3]
    renderer.trim()
    assert [p.path.exists() for p in pages] == [False, False, False, True]


def test_media_types() -> None:
    assert is_pdf("application/pdf") and is_pdf("Application/PDF; name=x.pdf")
    assert not is_pdf("image/png") and not is_pdf("application/pdfx")


PDF = pdf_bytes(2, size=(200, 300))


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.integers(0, len(PDF)).map(lambda n: PDF[:n]),  # cut anywhere
    st.tuples(st.integers(0, len(PDF) - 1), st.binary(min_size=1, max_size=8)).map(
        lambda t: PDF[:t[0]] + t[1] + PDF[t[0] + len(t[1]):]),  # bytes overwritten
    st.binary(max_size=600),
))
def test_any_bytes_render_or_are_refused_as_unreadable(tmp_path: Path, data: bytes) -> None:
    # A file from outside (an attachment): pdfium parses it; the kiosk gets pages or
    # PdfUnreadable, never another error.
    path = tmp_path / "in.pdf"
    path.write_bytes(data)
    renderer = PageRenderer(tmp_path / "cache", max_bytes=0)  # nothing kept between cases
    try:
        total = renderer.count(path)
        for index in range(min(total, 2)):
            page = renderer.page(path, hashlib.sha256(data).hexdigest(), index, 240)
            assert page.width == 240 or page.height <= MAX_HEIGHT
            assert len(page.rgb) == page.width * page.height * 3
    except PdfUnreadable as e:
        assert e.reason in ("damaged", "encrypted")
