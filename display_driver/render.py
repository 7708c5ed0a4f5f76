"""Text to 1-bit pages at a board's exact geometry, with a pixel font at its native size.

GNU Unifont at 16 px has a hand-drawn bitmap for every BMP character, so CJK strokes are
crisp without anti-aliasing. Lines break by Chinese rules (禁则): no line starts with closing
punctuation, none ends with opening punctuation. Text that does not fit becomes more pages,
never silently cut; characters the font cannot draw, and control characters, are replaced by
a visible mark and reported.
"""

from __future__ import annotations

import functools
import glob
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from PIL import Image, ImageDraw, ImageFont

from .bitmap import Bitmap
from .protocols.base import TextProblem

__all__ = [
    "Bitmap",
    "FontNotFoundError",
    "RenderResult",
    "Renderer",
    "TextProblem",
    "bitmap_from_image",
    "bitmap_to_image",
    "find_unifont",
]

UNIFONT_SIZE_PX: Final = 16
UNIFONT_CANDIDATES: Final = (
    "/usr/share/fonts/opentype/unifont/unifont.otf",
    "/usr/share/fonts/truetype/unifont/unifont.ttf",
    "/usr/share/fonts/opentype/unifont/unifont*.otf",
    "/usr/share/fonts/truetype/unifont/*.ttf",
    "/usr/local/share/fonts/unifont*.[ot]tf",
)
REPLACEMENT: Final = "□"  # visible in Unifont and in GB2312 font cards alike

# Kinsoku (禁则) tables: characters that may not begin / end a line.
NO_LINE_START: Final = frozenset(
    "。，、；：？！）」』》〉】〕〗〙〛｝］…‥・·ー〜～”’%‰℃°"
    ",.;:?!)]}>"
)
NO_LINE_END: Final = frozenset("（「『《〈【〔〖〘〚｛［“‘([{<")


class FontNotFoundError(RuntimeError):
    """No usable pixel font; the message names the package to install."""


def find_unifont() -> Path:
    """Locate GNU Unifont (prefer the OpenType/TrueType build Pillow can load)."""
    for pattern in UNIFONT_CANDIDATES:
        for hit in sorted(glob.glob(pattern)):
            name = Path(hit).name
            if any(tag in name for tag in ("_jp", "_csur", "_upper", "sample")):
                continue
            return Path(hit)
    raise FontNotFoundError(
        "GNU Unifont not found (looked in /usr/share/fonts/{opentype,truetype}/unifont). "
        "Install the Debian package 'fonts-unifont' (apt-get install fonts-unifont) or pass "
        "font_path= explicitly."
    )


@dataclass(frozen=True)
class RenderResult:
    """Pages to show, the lines that were laid out, and every substitution we made."""

    pages: tuple[Bitmap, ...]
    lines: tuple[str, ...]
    problems: tuple[TextProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def bitmap_from_image(img: Image.Image) -> Bitmap:
    """Pack a Pillow image (any mode; non-zero = on) into a :class:`Bitmap`."""
    if img.mode != "1":
        img = img.convert("L").point(lambda v: 255 if v else 0).convert("1")
    return Bitmap(img.width, img.height, img.tobytes())


def bitmap_to_image(bmp: Bitmap) -> Image.Image:
    """A mode-"1" image, white = LED on."""
    return Image.frombytes("1", (bmp.width, bmp.height), bmp.data)


class Renderer:
    """Lays out and draws text with one pixel font. Cheap to reuse across renders."""

    def __init__(self, font_path: str | Path | None = None, size_px: int = UNIFONT_SIZE_PX,
                 line_spacing_px: int = 0) -> None:
        path = Path(font_path) if font_path is not None else find_unifont()
        if not path.is_file():  # Pillow would otherwise search system fonts by base name
            raise FontNotFoundError(
                f"font file {path} does not exist (for GNU Unifont install 'fonts-unifont')"
            )
        try:
            self.font = ImageFont.truetype(str(path), size_px,
                                           layout_engine=ImageFont.Layout.BASIC)
        except OSError as exc:
            raise FontNotFoundError(f"cannot load font {path}: {exc}") from exc
        self.size_px = size_px
        self.line_height = size_px + line_spacing_px
        self._notdef = self._mask_signature("\U0010fffd")  # a private-use codepoint: no glyph

    def _mask_signature(self, ch: str) -> tuple[tuple[int, int], bytes, tuple[int, ...]]:
        mask = self.font.getmask(ch, mode="1")
        return mask.size, bytes(mask), tuple(int(v) for v in self.font.getbbox(ch))

    @functools.lru_cache(maxsize=8192)  # noqa: B019 - renderers live as long as the process
    def char_problem(self, ch: str) -> str | None:
        """Why ``ch`` cannot be drawn as itself, or None if it can."""
        cat = unicodedata.category(ch)
        if cat == "Cc":
            return f"control character U+{ord(ch):04X}"
        if cat in ("Cf", "Cs", "Co", "Cn"):
            return f"U+{ord(ch):04X} is not a printable character ({cat})"
        if ch.isspace():
            return None
        if self._mask_signature(ch) == self._notdef:
            return f"the font has no glyph for U+{ord(ch):04X}"
        return None

    @functools.lru_cache(maxsize=8192)  # noqa: B019
    def advance(self, ch: str) -> int:
        return round(self.font.getlength(ch))

    def clean(self, text: str) -> tuple[str, tuple[TextProblem, ...]]:
        """Normalise line ends; replace and report what the font cannot show."""
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        out: list[str] = []
        problems: list[TextProblem] = []
        for i, ch in enumerate(text):
            if ch == "\n":
                out.append(ch)
                continue
            if ch == "\t":
                out.append(" ")
                continue
            reason = self.char_problem(ch)
            if reason is None:
                out.append(ch)
            else:
                problems.append(TextProblem(i, ch, reason, REPLACEMENT))
                out.append(REPLACEMENT)
        return "".join(out), tuple(problems)

    def wrap(self, text: str, width_px: int) -> list[str]:
        """Break cleaned text into lines no wider than ``width_px``, by Chinese rules."""
        lines: list[str] = []
        for para in text.split("\n"):
            lines.extend(self._wrap_paragraph(para, width_px))
        return lines

    def _tokens(self, para: str) -> list[str]:
        """Break opportunities: each CJK character alone, Latin words with their spaces."""
        tokens: list[str] = []
        word = ""
        for ch in para:
            if ch == " ":
                word += ch
                tokens.append(word)
                word = ""
            elif ord(ch) < 0x2E80 and unicodedata.category(ch)[0] in "LN" and not word.endswith(
                " "
            ):
                word += ch
            else:
                if word:
                    tokens.append(word)
                    word = ""
                tokens.append(ch)
        if word:
            tokens.append(word)
        return tokens

    def _width(self, s: str) -> int:
        return sum(self.advance(c) for c in s)

    def _wrap_paragraph(self, para: str, width_px: int) -> list[str]:
        if not para:
            return [""]
        tokens: list[str] = []
        for tok in self._tokens(para):
            if self._width(tok.rstrip(" ")) > width_px:
                tokens.extend(tok)  # a word wider than the board: break inside it
            else:
                tokens.append(tok)
        lines: list[str] = []
        start = 0
        while start < len(tokens):
            end = start
            used = 0
            while end < len(tokens):
                w = self._width(tokens[end].rstrip(" "))
                if used + w > width_px and end > start:
                    break
                used += self._width(tokens[end])
                end += 1
            if end < len(tokens):
                # Kinsoku by pushing out: move characters to the next line until neither the
                # next line starts with closing punctuation nor this one ends with opening.
                e = end
                while e - start > 1 and (
                    tokens[e][0] in NO_LINE_START or tokens[e - 1][-1] in NO_LINE_END
                ):
                    e -= 1
                if e - start >= 1 and not (
                    tokens[e][0] in NO_LINE_START or tokens[e - 1][-1] in NO_LINE_END
                ):
                    end = e
            lines.append("".join(tokens[start:end]).rstrip(" "))
            start = end
        return lines

    def render(self, text: str, width: int, height: int, *,
               align: Literal["left", "center"] = "left",
               valign: Literal["top", "middle"] = "middle") -> RenderResult:
        """Lay ``text`` out on as many ``width`` x ``height`` pages as it needs."""
        if height < self.size_px or width < self.size_px:
            raise ValueError(
                f"board {width}x{height} is smaller than one {self.size_px}px character"
            )
        cleaned, problems = self.clean(text)
        lines = [ln for ln in self.wrap(cleaned, width)]
        while lines and not lines[-1]:
            lines.pop()
        if not lines:
            lines = [""]
        per_page = max(1, (height + self.line_height - self.size_px) // self.line_height)
        pages = [
            self._draw(lines[i : i + per_page], width, height, align, valign)
            for i in range(0, len(lines), per_page)
        ]
        return RenderResult(tuple(pages), tuple(lines), problems)

    def _draw(self, lines: Sequence[str], width: int, height: int,
              align: str, valign: str) -> Bitmap:
        img = Image.new("1", (width, height), 0)
        draw = ImageDraw.Draw(img)
        draw.fontmode = "1"
        block = len(lines) * self.line_height - (self.line_height - self.size_px)
        y = (height - block) // 2 if valign == "middle" else 0
        for line in lines:
            x = (width - self._width(line)) // 2 if align == "center" else 0
            if line:
                draw.text((x, y), line, font=self.font, fill=1, anchor="la")
            y += self.line_height
        return bitmap_from_image(img)


@functools.lru_cache(maxsize=4)
def default_renderer() -> Renderer:
    """A process-wide Unifont renderer (font loading costs a few milliseconds)."""
    return Renderer()
