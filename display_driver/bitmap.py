"""1-bit bitmaps shared by the renderer, the protocol encoders and the simulator.

Kept free of Pillow so that ``display_driver.protocols`` can consume bitmaps without
pulling in an imaging library: a protocol only needs packed rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

MAX_SIDE_PX = 4096
"""Larger than any LED board we drive; guards against absurd geometries."""


def row_stride(width: int) -> int:
    """Bytes per packed row (rows are padded to a whole byte)."""
    return (width + 7) // 8


@dataclass(frozen=True)
class Bitmap:
    """A monochrome image: ``data`` holds rows top to bottom, each row packed MSB-first
    (bit 7 of the first byte is the leftmost pixel), padded to a whole byte; 1 = LED on.

    Padding bits are always 0 so that equal images compare equal.
    """

    width: int
    height: int
    data: bytes

    def __post_init__(self) -> None:
        if not (0 < self.width <= MAX_SIDE_PX and 0 < self.height <= MAX_SIDE_PX):
            raise ValueError(f"bitmap size {self.width}x{self.height} out of range")
        if not isinstance(self.data, bytes):
            raise TypeError("Bitmap.data must be bytes")
        expected = row_stride(self.width) * self.height
        if len(self.data) != expected:
            raise ValueError(
                f"bitmap {self.width}x{self.height} needs {expected} bytes, got {len(self.data)}"
            )
        pad = row_stride(self.width) * 8 - self.width
        if pad:
            mask = (1 << pad) - 1
            stride = row_stride(self.width)
            for y in range(self.height):
                if self.data[y * stride + stride - 1] & mask:
                    raise ValueError("padding bits of a bitmap row must be 0")

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def blank(cls, width: int, height: int) -> Bitmap:
        """All LEDs off."""
        return cls(width, height, bytes(row_stride(width) * height))

    @classmethod
    def from_pixels(cls, width: int, height: int, pixels: Iterable[bool | int]) -> Bitmap:
        """Build from a row-major iterable of truthy (on) / falsy (off) values."""
        stride = row_stride(width)
        out = bytearray(stride * height)
        count = 0
        for i, p in enumerate(pixels):
            if i >= width * height:
                raise ValueError("too many pixels")
            if p:
                y, x = divmod(i, width)
                out[y * stride + x // 8] |= 0x80 >> (x % 8)
            count = i + 1
        if count != width * height:
            raise ValueError(f"expected {width * height} pixels, got {count}")
        return cls(width, height, bytes(out))

    @classmethod
    def from_strings(cls, rows: Sequence[str], on: str = "#") -> Bitmap:
        """Build from text art, e.g. ``["#.#", ".#."]`` (handy in tests)."""
        if not rows:
            raise ValueError("no rows")
        width = len(rows[0])
        if any(len(r) != width for r in rows):
            raise ValueError("rows differ in length")
        return cls.from_pixels(width, len(rows), (c == on for r in rows for c in r))

    # -- access -------------------------------------------------------------------------
    @property
    def stride(self) -> int:
        return row_stride(self.width)

    def get(self, x: int, y: int) -> bool:
        """Whether the pixel at column ``x``, row ``y`` is on."""
        if not (0 <= x < self.width and 0 <= y < self.height):
            raise IndexError((x, y))
        return bool(self.data[y * self.stride + x // 8] & (0x80 >> (x % 8)))

    def row(self, y: int) -> bytes:
        """Packed bytes of row ``y``."""
        s = self.stride
        return self.data[y * s : (y + 1) * s]

    def rows(self) -> Iterator[bytes]:
        for y in range(self.height):
            yield self.row(y)

    def pixels(self) -> Iterator[bool]:
        """Row-major pixel values."""
        for y in range(self.height):
            r = self.row(y)
            for x in range(self.width):
                yield bool(r[x // 8] & (0x80 >> (x % 8)))

    def ink(self) -> int:
        """Number of lit pixels (a cheap 'is anything shown' check)."""
        return sum(bin(b).count("1") for b in self.data)

    def to_strings(self, on: str = "#", off: str = ".") -> list[str]:
        """Text art, the inverse of :meth:`from_strings`."""
        return [
            "".join(on if self.get(x, y) else off for x in range(self.width))
            for y in range(self.height)
        ]

    def crop(self, x: int, y: int, width: int, height: int) -> Bitmap:
        """A sub-image; areas outside this bitmap read as off."""
        def px() -> Iterator[bool]:
            for yy in range(y, y + height):
                for xx in range(x, x + width):
                    yield (0 <= xx < self.width and 0 <= yy < self.height) and self.get(xx, yy)

        return Bitmap.from_pixels(width, height, px())
