"""PDF attachments as page pictures for the detail screen, rendered by pdfium (pypdfium2).

Rendering a page takes a tenth of a second or more, so it runs on the kiosk's I/O worker,
one page per call (a tap's query waits behind one page at most), and each page is kept as
a PNG in a cache directory named by the blob's sha256, the page and the width: showing the
same page again is reading a file. The cache is only a cache: delete it any time; it is
trimmed to its budget, least recently shown first. No Kivy here, so it is tested alone.
pdfium and Pillow are imported on first use, on the worker: importing pdfium takes ~70 ms,
which the kiosk's start-up should not pay.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pypdfium2 as pdfium
    from PIL import Image

PDF_MEDIA_TYPE = "application/pdf"
CACHE_DIR_NAME = "pdf-pages"
MAX_PAGES = 20  # per disclosure: a 300-page PDF must not fill the kiosk's memory
MIN_WIDTH = 200
MAX_WIDTH = 1200  # px (A4 at ~145 dpi); the page is then ~1,700 px tall, ~6 MB of texture
MAX_ASPECT = 3.0  # a page taller than 3 widths is scaled down to that height,
MAX_HEIGHT = 4000  # and to this (a Raspberry Pi's GPU takes textures up to 4096 px)
CACHE_MAX_BYTES = 256 << 20
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class PdfUnreadable(Exception):
    """The PDF cannot be shown; `reason` is "encrypted" or "damaged"."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class PageImage:
    """A rendered page: its PNG, its size, and its pixels (RGB, top row first) for a texture.

    The pixels are decoded here, on the worker, so the UI thread only uploads them.
    """

    path: Path
    width: int
    height: int
    rgb: bytes = b""


def is_pdf(media_type: str) -> bool:
    return media_type.split(";")[0].strip().lower() == PDF_MEDIA_TYPE


def page_cache_dir(data_dir: Path) -> Path:
    return data_dir / CACHE_DIR_NAME


class PageRenderer:
    """Pages of PDF files as PNG files in `cache_dir`, at most `max_bytes` of them."""

    def __init__(self, cache_dir: Path, max_bytes: int = CACHE_MAX_BYTES) -> None:
        self.cache_dir = cache_dir
        self.max_bytes = max_bytes

    def count(self, pdf: Path) -> int:
        """How many pages `pdf` has; trims the cache first (once per document shown).

        Raises:
            PdfUnreadable: encrypted, damaged, not a PDF, or no pages.
        """
        self.trim()
        with _opened(pdf) as doc:
            pages = len(doc)
        if pages < 1:
            raise PdfUnreadable("damaged", "no pages")
        return pages

    def page(self, pdf: Path, sha256: str, index: int, width: int) -> PageImage:
        """Page `index` (from 0) of `pdf`, `width` pixels wide (clamped), as a PNG.

        Raises:
            PdfUnreadable: the document or this page cannot be rendered.
        """
        if not SHA256_RE.match(sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        from PIL import Image

        width = max(MIN_WIDTH, min(MAX_WIDTH, width))
        target = self.cache_dir / f"{sha256}-{index + 1:04d}-{width}.png"
        if target.is_file():
            try:
                with Image.open(target) as cached:
                    image = cached.convert("RGB")
                os.utime(target)  # recently shown: trimmed last
                return _page_image(target, image)
            except OSError:
                target.unlink(missing_ok=True)  # damaged: render again
        import pypdfium2 as pdfium

        with _opened(pdf) as doc:
            if not 0 <= index < len(doc):
                raise IndexError(f"page {index + 1} of {len(doc)}")
            try:
                page = doc[index]
                w_pt, h_pt = page.get_size()
                if not (w_pt > 0 and h_pt > 0):
                    raise PdfUnreadable("damaged", f"page {index + 1} has no size")
                scale = min(width / w_pt, min(width * MAX_ASPECT, MAX_HEIGHT) / h_pt)
                scale *= 1 - 1e-9  # pdfium rounds the size up: 200.00000000001 px is 201
                image = page.render(scale=scale).to_pil().convert("RGB")
                page.close()
            except pdfium.PdfiumError as e:
                raise PdfUnreadable("damaged", f"page {index + 1}: {e}") from e
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        _write_png(image, target)
        return _page_image(target, image)

    def trim(self) -> int:
        """Delete the least recently shown pages until the cache fits; bytes deleted."""
        try:
            files = [(p, p.stat()) for p in self.cache_dir.glob("*.png")]
        except OSError:
            return 0
        total = sum(st.st_size for _, st in files)
        freed = 0
        for path, st in sorted(files, key=lambda f: f[1].st_mtime):
            if total - freed <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            freed += st.st_size
        return freed


@contextlib.contextmanager
def _opened(pdf: Path) -> Iterator[pdfium.PdfDocument]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        doc = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as e:
        encrypted = getattr(e, "err_code", None) in (pdfium_c.FPDF_ERR_PASSWORD,
                                                     pdfium_c.FPDF_ERR_SECURITY)
        raise PdfUnreadable("encrypted" if encrypted else "damaged", str(e)) from e
    try:
        yield doc
    finally:
        doc.close()


def _page_image(path: Path, image: Image.Image) -> PageImage:
    width, height = image.size
    return PageImage(path, width, height, image.tobytes())


def _write_png(image: Image.Image, target: Path) -> None:
    """Whole or not at all: a page cut short by a power cut would be shown cut short."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".page-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as out:
            image.save(out, "PNG", compress_level=1)  # fast; the cache is not kept long
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


__all__ = ["MAX_PAGES", "PageImage", "PageRenderer", "PdfUnreadable", "is_pdf",
           "page_cache_dir"]
