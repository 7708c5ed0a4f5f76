"""Onbon (仰邦) BX-5/BX-6 controllers, sans-IO.

Sources (read, not copied):

* [5G] onbonlab/BX-V-VI ``bx.dual.Aux.Data/5th动态区域用户手册.md`` v1.5 (2018): frame layout
  (§2), escaping (§2.3), 16-byte header (§4), request/response/ACK/NACK (§5.1-5.3), error
  register (§5.2.2), dynamic area update ``A7 00`` / delete ``A7 01`` (§5.4), ping ``A2 00`` and
  brightness ``A2 07`` (§5.5), CRC-16 table (appendix 1), BX-5E pixel coding (appendix 2).
  Its ping frame (§5.5.1) is a test vector.
* [5K] onbonlab/BX-K ``bx.k.cplus/doc/SdkWord/appendix.md``: font-card device types and the
  27-byte area header of the real-time text command ``A3 06``. The 14-byte font-card packet
  header and the ``A3 06`` request prefix are not in that repository; they are taken from two
  independent public drivers (a Delphi font-card driver and a C "BX4K" library) whose example
  frames (ping, ``A3 06`` text) check out against the CRC and are test vectors.

What was not verifiable against hardware is listed in docs/boards.md.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Final, Literal

from ..bitmap import Bitmap
from .base import (
    BoardGeometry,
    BoardProtocol,
    DisplayMode,
    LocalProtocolError,
    RemoteProtocolError,
    Reply,
    ReplyKind,
    SerialSettings,
    ShowOptions,
    TextProblem,
)

# --------------------------------------------------------------------------------------
# PHY0: frame start/end and byte escaping ([5G] §2, §2.3)
# --------------------------------------------------------------------------------------
FRAME_START: Final = 0xA5
FRAME_END: Final = 0x5A
PREAMBLE_LEN: Final = 8  # "帧头由8个字节的0xA5组成"; a receiver syncs on any number of them
PREAMBLE: Final = bytes([FRAME_START]) * PREAMBLE_LEN

# Escape table: raw byte -> two bytes on the wire. Order matters when applied with
# bytes.replace: the escape leaders (A6, 5B) must be doubled before A5/5A introduce them.
ESCAPE_TABLE: Final[tuple[tuple[int, bytes], ...]] = (
    (0xA6, b"\xa6\x01"),
    (0xA5, b"\xa6\x02"),
    (0x5B, b"\x5b\x01"),
    (0x5A, b"\x5b\x02"),
)
UNESCAPE_TABLE: Final[dict[tuple[int, int], int]] = {
    (seq[0], seq[1]): raw for raw, seq in ESCAPE_TABLE
}
ESCAPE_LEADERS: Final = frozenset(seq[0] for _, seq in ESCAPE_TABLE)


def escape(raw: bytes) -> bytes:
    """Apply the transfer-meaning escapes so no A5/5A can appear inside a frame."""
    out = raw
    for byte, seq in ESCAPE_TABLE:
        out = out.replace(bytes([byte]), seq)
    return out


def unescape(wire: bytes) -> bytes:
    """Undo :func:`escape`. Raises RemoteProtocolError on a dangling or unknown escape."""
    if not any(b in wire for b in (b"\xa6", b"\x5b")):
        return wire
    out = bytearray()
    i = 0
    n = len(wire)
    while i < n:
        b = wire[i]
        if b in ESCAPE_LEADERS:
            if i + 1 >= n:
                raise RemoteProtocolError(f"escape byte {b:02X} at end of frame")
            raw = UNESCAPE_TABLE.get((b, wire[i + 1]))
            if raw is None:
                raise RemoteProtocolError(f"invalid escape sequence {b:02X} {wire[i + 1]:02X}")
            out.append(raw)
            i += 2
        else:
            out.append(b)
            i += 1
    return bytes(out)


# --------------------------------------------------------------------------------------
# CRC-16 ([5G] appendix 1): polynomial x^16+x^15+x^2+1, processed LSB-first (reflected
# 0xA001), initial value 0, no final XOR: the CRC-16/ARC variant. Sent little-endian and
# computed over the unescaped header + data field.
# --------------------------------------------------------------------------------------
CRC_POLY_REFLECTED: Final = 0xA001


def _make_crc_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ CRC_POLY_REFLECTED if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


CRC_TABLE: Final = _make_crc_table()


def crc16(data: bytes, crc: int = 0) -> int:
    """CRC-16 exactly as the Onbon appendix: ``crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]``."""
    for b in data:
        crc = (crc >> 8) ^ CRC_TABLE[(crc ^ b) & 0xFF]
    return crc


# --------------------------------------------------------------------------------------
# PHY1 headers
# --------------------------------------------------------------------------------------
SRC_ADDR_PC: Final = 0x8000  # "源地址PC 客户端软件默认为0x8000"
GEN5_PROTOCOL_VERSION: Final = 0xF0  # "动态区域协议版本号为0xf0"
GEN5_DEVICE_WILDCARD: Final = 0xFFFE  # as used by the [5G] §5.5.1 ping example
GEN5_DEVICE_TYPES: Final[dict[str, int]] = {
    "BX-5E1": 0x0154,
    "BX-5E2": 0x0254,
    "BX-5E3": 0x0354,
    "BX-5Q0+": 0x1056,
    "BX-5Q1+": 0x1156,
    "BX-5Q2+": 0x1256,
}
FONT_CARD_PROTOCOL_VERSION: Final = 0x02
FONT_CARD_DEVICE_WILDCARD: Final = 0xFE
FONT_CARD_DEVICE_TYPES: Final[dict[str, int]] = {  # [5K] appendix
    "BX-5K1": 0x51,
    "BX-5K2": 0x58,
    "BX-5MK1": 0x54,
    "BX-5MK2": 0x53,
    "BX-5K1Q-YY": 0x5C,
    "BX-6K1": 0x61,
    "BX-6K2": 0x62,
    "BX-6K3": 0x63,
    "BX-6K1-YY": 0x64,
    "BX-6K2-YY": 0x65,
    "BX-6K3-YY": 0x66,
    "BX-6K1-4G": 0x67,
    "BX-6K2-4G": 0x68,
}
BROADCAST_ADDRESS: Final = 0xFFFF
CRC_LEN: Final = 2


def _check_u16(name: str, value: int) -> None:
    if not 0 <= value <= 0xFFFF:
        raise LocalProtocolError(f"{name}={value} does not fit 16 bits")


def _check_u8(name: str, value: int) -> None:
    if not 0 <= value <= 0xFF:
        raise LocalProtocolError(f"{name}={value} does not fit 8 bits")


@dataclass(frozen=True)
class Gen5Header:
    """16-byte header of 5th-gen dynamic-area packets ([5G] §4), all fields little-endian."""

    dst: int
    src: int = SRC_ADDR_PC
    device_type: int = GEN5_DEVICE_WILDCARD
    protocol_version: int = GEN5_PROTOCOL_VERSION

    SIZE: ClassVar[int] = 16
    _FMT: ClassVar[str] = "<HHBBH4xI"  # dst, src, ver, reserved, type, 4 reserved, data len
    MAX_DATA_LEN: ClassVar[int] = 0xFFFFFFFF

    def __post_init__(self) -> None:
        _check_u16("dst", self.dst)
        _check_u16("src", self.src)
        _check_u16("device_type", self.device_type)
        _check_u8("protocol_version", self.protocol_version)

    def pack(self, data_len: int) -> bytes:
        return struct.pack(
            self._FMT, self.dst, self.src, self.protocol_version, 0, self.device_type, data_len
        )

    @classmethod
    def unpack(cls, raw: bytes) -> tuple[Gen5Header, int]:
        dst, src, ver, _res, dev, data_len = struct.unpack(cls._FMT, raw[: cls.SIZE])
        return cls(dst, src, dev, ver), data_len


@dataclass(frozen=True)
class FontCardHeader:
    """14-byte header of font-card (BX-5K/6K) packets: dst, src, 3 reserved, option,
    check mode, display mode, device type (1 byte), protocol version, data length (2)."""

    dst: int
    src: int = SRC_ADDR_PC
    device_type: int = FONT_CARD_DEVICE_WILDCARD
    protocol_version: int = FONT_CARD_PROTOCOL_VERSION

    SIZE: ClassVar[int] = 14
    _FMT: ClassVar[str] = "<HH3xBBBBBH"
    MAX_DATA_LEN: ClassVar[int] = 0xFFFF

    def __post_init__(self) -> None:
        _check_u16("dst", self.dst)
        _check_u16("src", self.src)
        _check_u8("device_type", self.device_type)
        _check_u8("protocol_version", self.protocol_version)

    def pack(self, data_len: int) -> bytes:
        return struct.pack(
            self._FMT, self.dst, self.src, 0, 0, 0, self.device_type, self.protocol_version,
            data_len,
        )

    @classmethod
    def unpack(cls, raw: bytes) -> tuple[FontCardHeader, int]:
        dst, src, _opt, _chk, _disp, dev, ver, data_len = struct.unpack(cls._FMT, raw[: cls.SIZE])
        return cls(dst, src, dev, ver), data_len


Header = Gen5Header | FontCardHeader


class HeaderKind(enum.Enum):
    GEN5 = Gen5Header
    FONT_CARD = FontCardHeader


@dataclass(frozen=True)
class Packet:
    """One PHY1 packet: header plus data field (the CRC is checked/added by the framing)."""

    header: Header
    data: bytes


def encode_frame(header: Header, data: bytes) -> bytes:
    """Wrap a data field into a complete frame: preamble, escaped header+data+CRC, end."""
    if len(data) > header.MAX_DATA_LEN:
        raise LocalProtocolError(f"data field of {len(data)} bytes exceeds the header's length")
    phy1 = header.pack(len(data)) + data
    phy1 += struct.pack("<H", crc16(phy1))
    return PREAMBLE + escape(phy1) + bytes([FRAME_END])


def decode_phy1(kind: HeaderKind, wire_body: bytes) -> Packet:
    """Check and split an escaped frame body (between preamble and end byte)."""
    raw = unescape(wire_body)
    hdr_cls = kind.value
    if len(raw) < hdr_cls.SIZE + CRC_LEN:
        raise RemoteProtocolError(f"frame of {len(raw)} bytes is shorter than header + CRC")
    body, crc_bytes = raw[:-CRC_LEN], raw[-CRC_LEN:]
    (got,) = struct.unpack("<H", crc_bytes)
    want = crc16(body)
    if got != want:
        raise RemoteProtocolError(f"CRC mismatch: frame says {got:04X}, computed {want:04X}")
    header, data_len = hdr_cls.unpack(body)
    data = body[hdr_cls.SIZE :]
    if data_len != len(data):
        raise RemoteProtocolError(
            f"header announces {data_len} data bytes, frame carries {len(data)}"
        )
    if isinstance(header, Gen5Header) and header.protocol_version != GEN5_PROTOCOL_VERSION:
        raise RemoteProtocolError(f"unexpected protocol version {header.protocol_version:02X}")
    return Packet(header, data)


class _St(enum.Enum):
    HUNT = 0
    PREAMBLE = 1
    BODY = 2


class FrameDecoder:
    """Incremental frame splitter with a length cap (h11-style ``feed`` / ``next_packet``).

    Bytes before a preamble are discarded (counted in ``discarded``). A malformed frame
    is removed from the buffer *before* RemoteProtocolError is raised, so the caller can
    log it and keep reading.
    """

    def __init__(self, kind: HeaderKind, max_frame_bytes: int) -> None:
        self.kind = kind
        self.max_frame_bytes = max_frame_bytes
        self.discarded = 0
        self._buf = bytearray()
        self._state = _St.HUNT

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next_packet(self) -> Packet | None:
        buf = self._buf
        while True:
            if self._state is _St.HUNT:
                i = buf.find(FRAME_START)
                if i < 0:
                    self.discarded += len(buf)
                    buf.clear()
                    return None
                self.discarded += i
                del buf[:i]
                self._state = _St.PREAMBLE
            if self._state is _St.PREAMBLE:
                i = 0
                while i < len(buf) and buf[i] == FRAME_START:
                    i += 1
                del buf[:i]
                if not buf:
                    return None
                self._state = _St.BODY
            # BODY: the end byte cannot occur escaped, so the first 5A ends the frame.
            end = buf.find(FRAME_END)
            restart = buf.find(FRAME_START, 0, end if end >= 0 else len(buf))
            if restart >= 0:
                del buf[:restart]
                self._state = _St.PREAMBLE
                raise RemoteProtocolError("frame truncated: a new preamble began inside it")
            if end < 0:
                if len(buf) > self.max_frame_bytes:
                    buf.clear()
                    self._state = _St.HUNT
                    raise RemoteProtocolError(
                        f"frame longer than {self.max_frame_bytes} bytes without an end byte"
                    )
                return None
            body = bytes(buf[:end])
            del buf[: end + 1]
            self._state = _St.HUNT
            if end > self.max_frame_bytes:
                raise RemoteProtocolError(f"frame of {end} bytes exceeds {self.max_frame_bytes}")
            return decode_phy1(self.kind, body)


# --------------------------------------------------------------------------------------
# Error register ([5G] §5.2.2; same numbering in the font-card SDK)
# --------------------------------------------------------------------------------------
ERROR_MESSAGES: Final[dict[int, str]] = {
    0: "ERR_NO: no error",
    1: "ERR_OUTOFGROUP: command group error",
    2: "ERR_NOCMD: command does not exist",
    3: "ERR_BUSY: controller busy",
    4: "ERR_MEMORYVOLUME: memory capacity exceeded",
    5: "ERR_CHECKSUM: packet CRC error",
    6: "ERR_FILENOTEXIST: file does not exist",
    7: "ERR_FLASH: flash access error",
    8: "ERR_FILE_DOWNLOAD: file download error",
    9: "ERR_FILE_NAME: file name error",
    10: "ERR_FILE_TYPE: file type error",
    11: "ERR_FILE_CRC16: file CRC error",
    12: "ERR_FONT_NOT_EXIST: font library missing",
    13: "ERR_FIRMWARE_TYPE: firmware does not match controller type",
    14: "ERR_DATE_TIME_FORMAT: date/time format error",
    15: "ERR_FILE_EXIST: file already exists",
    16: "ERR_FILE_BLOCK_NUM: file block number error",
    17: "ERR_CONTROLLER_TYPE: controller type mismatch",
    18: "ERR_SCREEN_PARA: controller parameter out of range",
    19: "ERR_CONTROLLER_ID: controller ID error",
}
ERR_NOCMD: Final = 2
ERR_CHECKSUM: Final = 5
ERR_MEMORYVOLUME: Final = 4
ERR_SCREEN_PARA: Final = 18


def error_message(code: int) -> str:
    return ERROR_MESSAGES.get(code, f"unknown error {code}")


# --------------------------------------------------------------------------------------
# Command codes (group, cmd)
# --------------------------------------------------------------------------------------
CMD_ACK: Final = (0xA0, 0x00)
CMD_NACK: Final = (0xA0, 0x01)
CMD_PING: Final = (0xA2, 0x00)
CMD_BRIGHTNESS: Final = (0xA2, 0x07)
CMD_DYN_UPDATE: Final = (0xA7, 0x00)
CMD_DYN_DELETE: Final = (0xA7, 0x01)
CMD_FONT_CARD_REALTIME: Final = (0xA3, 0x06)

RTN_REQ_YES: Final = 0x01
FONT_CARD_RESPONSE_YES: Final = 0x01
FONT_CARD_RESPONSE_NO: Final = 0x02

# [5G] §5.4.1 DisplayMode codes for our neutral modes; font cards ([5K] appendix) differ.
GEN5_DISPLAY_MODES: Final[dict[DisplayMode, int]] = {
    DisplayMode.STATIC: 0x01,  # 静止显示
    DisplayMode.SCROLL_LEFT: 0x03,  # 向左移动
    DisplayMode.SCROLL_UP: 0x05,  # 向上移动
}
FONT_CARD_DISPLAY_MODES: Final[dict[DisplayMode, int]] = {
    DisplayMode.STATIC: 0x01,
    DisplayMode.SCROLL_LEFT: 0x03,
    DisplayMode.SCROLL_UP: 0x05,
}

GEN5_AREA_TYPE_DYNAMIC: Final = 0x10
MAX_AREA_BYTES: Final = 300 * 1024  # "每个动态区域最大容量为300K"
GEN5_MAX_AREAS: Final = 4
DELETE_ALL_AREAS: Final = 0xFF
PAGE_PARAM_LEN: Final = 13  # style, mode, clear, speed, stay(2), repeat, valid len(2), 4 reserved
IMME_PLAY_ONLY_THIS: Final = 1  # stop the stored programs, play only this dynamic area


class Gen5Colour(enum.Enum):
    """Pixel coding of BX-5E ([5G] appendix 2): single colour, or red+green boards."""

    MONO = "mono"
    RED = "red"
    GREEN = "green"
    YELLOW = "yellow"  # red + green

    @property
    def dual(self) -> bool:
        return self is not Gen5Colour.MONO


def encode_gen5_pixels(bitmap: Bitmap, x: int, colour: Gen5Colour) -> bytes:
    """BX-5E coding: row-major, MSB = leftmost, **0 = LED on**; bytes aligned to the
    screen's 8-pixel grid, partial bytes padded with 1 (off). Dual-colour boards send a red
    byte then a green byte for each 8 pixels."""
    lead = x % 8
    nbytes = (lead + bitmap.width + 7) // 8
    pad_total = nbytes * 8 - lead - bitmap.width
    red = colour in (Gen5Colour.MONO, Gen5Colour.RED, Gen5Colour.YELLOW)
    green = colour in (Gen5Colour.GREEN, Gen5Colour.YELLOW)
    out = bytearray()
    full = (1 << (nbytes * 8)) - 1
    for row in bitmap.rows():
        v = int.from_bytes(row, "big") >> (bitmap.stride * 8 - bitmap.width)
        v <<= pad_total
        off = (full ^ v).to_bytes(nbytes, "big")  # invert: 0 = on, padding becomes 1
        if not colour.dual:
            out += off
            continue
        blank = b"\xff" * nbytes
        r, g = (off if red else blank), (off if green else blank)
        for i in range(nbytes):
            out.append(r[i])
            out.append(g[i])
    return bytes(out)


def decode_gen5_pixels(data: bytes, width: int, height: int, x: int, dual: bool) -> Bitmap:
    """Inverse of :func:`encode_gen5_pixels`; on dual boards a pixel is on if red or green."""
    lead = x % 8
    nbytes = (lead + width + 7) // 8
    per_row = nbytes * (2 if dual else 1)
    if len(data) != per_row * height:
        raise RemoteProtocolError(
            f"page has {len(data)} pixel bytes, {width}x{height} at x={x} needs "
            f"{per_row * height}"
        )
    stride = (width + 7) // 8
    out = bytearray()
    for y in range(height):
        row = data[y * per_row : (y + 1) * per_row]
        lit = bytes(a & b for a, b in zip(row[0::2], row[1::2], strict=True)) if dual else row
        v = ((1 << (nbytes * 8)) - 1) ^ int.from_bytes(lit, "big")
        v >>= nbytes * 8 - lead - width
        v &= (1 << width) - 1
        out += (v << (stride * 8 - width)).to_bytes(stride, "big")
    return Bitmap(width, height, bytes(out))


# --------------------------------------------------------------------------------------
# 5th-gen messages (data field = RtnReq, CmdGroup, Cmd, body)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gen5Ping:
    """``A2 00``: any live controller answers ([5G] §5.5.1)."""

    def encode(self) -> bytes:
        return bytes([RTN_REQ_YES, *CMD_PING, 0, 0])


@dataclass(frozen=True)
class Gen5Brightness:
    """``A2 07`` manual brightness 0..15 (the 48 half-hour slots all get the same value)."""

    level: int

    def __post_init__(self) -> None:
        if not 0 <= self.level <= 15:
            raise LocalProtocolError(f"brightness {self.level} outside 0..15")

    def encode(self) -> bytes:
        body = bytes([0x00]) + bytes([self.level]) * 48
        return bytes([RTN_REQ_YES, *CMD_BRIGHTNESS]) + struct.pack("<H", len(body)) + body


@dataclass(frozen=True)
class DynamicPage:
    """One page of a dynamic area ([5G] §5.4.1, page part)."""

    bitmap: Bitmap
    display_mode: int = GEN5_DISPLAY_MODES[DisplayMode.STATIC]
    clear_mode: int = 0
    speed: int = 1
    stay_10ms: int = 500
    repeat: int = 1

    def __post_init__(self) -> None:
        for name in ("display_mode", "clear_mode", "speed", "repeat"):
            _check_u8(name, getattr(self, name))
        _check_u16("stay_10ms", self.stay_10ms)


@dataclass(frozen=True)
class DynamicAreaUpdate:
    """``A7 00``: put pages of pixels into a dynamic area."""

    area_id: int
    x: int
    y: int
    pages: tuple[DynamicPage, ...]
    colour: Gen5Colour = Gen5Colour.MONO
    run_mode: int = 0  # 0: cycle through the pages
    timeout_s: int = 0
    imme_play: int = IMME_PLAY_ONLY_THIS
    relate_all_programs: bool = False
    related_programs: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.area_id < GEN5_MAX_AREAS:
            raise LocalProtocolError(f"area_id {self.area_id} outside 0..{GEN5_MAX_AREAS - 1}")
        if not self.pages:
            raise LocalProtocolError("a dynamic area needs at least one page (PageNum != 0)")
        if len(self.pages) > 0xFFFF:
            raise LocalProtocolError("too many pages")
        w, h = self.width, self.height
        for p in self.pages:
            if (p.bitmap.width, p.bitmap.height) != (w, h):
                raise LocalProtocolError("all pages of an area must have the same size")
        for name in ("x", "y", "timeout_s"):
            _check_u16(name, getattr(self, name))
        _check_u8("run_mode", self.run_mode)
        _check_u8("imme_play", self.imme_play)
        for p_id in self.related_programs:
            _check_u16("program", p_id)

    @property
    def width(self) -> int:
        return self.pages[0].bitmap.width

    @property
    def height(self) -> int:
        return self.pages[0].bitmap.height

    def encode(self) -> bytes:
        area = bytearray()
        area += struct.pack(
            "<BBHBH", self.area_id, self.run_mode, self.timeout_s,
            1 if self.relate_all_programs else 0, len(self.related_programs),
        )
        for p_id in self.related_programs:
            area += struct.pack("<H", p_id)
        area += struct.pack("<B4x", self.imme_play)
        area += struct.pack(
            "<BHHHH", GEN5_AREA_TYPE_DYNAMIC, self.x, self.y, self.width, self.height
        )
        area += b"\x00"  # AreaFFlag = 0: no border, so no further border fields
        area += struct.pack("<H", len(self.pages))
        for p in self.pages:
            pixels = encode_gen5_pixels(p.bitmap, self.x, self.colour)
            params = struct.pack(
                "<BBBBHBH4x", 0x00, p.display_mode, p.clear_mode, p.speed, p.stay_10ms,
                p.repeat, self.width,
            )
            area += struct.pack("<I", len(params) + len(pixels)) + params + pixels
        if len(area) > MAX_AREA_BYTES:
            raise LocalProtocolError(
                f"dynamic area of {len(area)} bytes exceeds the controller's {MAX_AREA_BYTES}"
            )
        return bytes([RTN_REQ_YES, *CMD_DYN_UPDATE, 0, 0]) + struct.pack("<I", len(area)) + area


@dataclass(frozen=True)
class DynamicAreaDelete:
    """``A7 01``: delete dynamic areas; ``area_ids=None`` deletes all (count 0xFF)."""

    area_ids: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.area_ids is not None:
            if len(self.area_ids) >= DELETE_ALL_AREAS:
                raise LocalProtocolError("too many area ids")
            for a in self.area_ids:
                _check_u8("area id", a)

    def encode(self) -> bytes:
        head = bytes([RTN_REQ_YES, *CMD_DYN_DELETE, 0, 0])
        if self.area_ids is None:
            return head + bytes([DELETE_ALL_AREAS])
        return head + bytes([len(self.area_ids), *self.area_ids])


@dataclass(frozen=True)
class UnknownCommand:
    """A well-framed request whose command we do not implement (a board NACKs it)."""

    group: int
    cmd: int
    body: bytes = b""


Gen5Request = Gen5Ping | Gen5Brightness | DynamicAreaUpdate | DynamicAreaDelete | UnknownCommand


class _Reader:
    """Bounds-checked little-endian reader: short input is a RemoteProtocolError."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise RemoteProtocolError(
                f"{self.what}: needs {n} more bytes at offset {self.pos}, has "
                f"{len(self.data) - self.pos}"
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple[int, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def u8(self) -> int:
        return self.take(1)[0]

    def rest(self) -> bytes:
        return self.take(len(self.data) - self.pos)


def decode_gen5_request(data: bytes, colour: Gen5Colour = Gen5Colour.MONO) -> Gen5Request:
    """Parse a 5th-gen request data field (what a controller, e.g. our simulator, does)."""
    r = _Reader(data, "request")
    _rtn, group, cmd = r.unpack("BBB")
    if (group, cmd) == CMD_PING:
        r.take(2)
        return Gen5Ping()
    if (group, cmd) == CMD_BRIGHTNESS:
        (n,) = r.unpack("H")
        body = r.take(n)
        if n < 2 or body[0] != 0x00:
            return UnknownCommand(group, cmd, body)
        return Gen5Brightness(body[1])
    if (group, cmd) == CMD_DYN_DELETE:
        r.take(2)
        count = r.u8()
        if count == DELETE_ALL_AREAS:
            return DynamicAreaDelete(None)
        return DynamicAreaDelete(tuple(r.take(count)))
    if (group, cmd) == CMD_DYN_UPDATE:
        r.take(2)
        (area_len,) = r.unpack("I")
        if area_len > MAX_AREA_BYTES:
            raise RemoteProtocolError(f"area length {area_len} exceeds {MAX_AREA_BYTES}")
        a = _Reader(r.take(area_len), "dynamic area")
        if r.pos != len(data):
            raise RemoteProtocolError("bytes after the dynamic area")
        area_id, run_mode, timeout, relate_all, n_rel = a.unpack("BBHBH")
        related = a.unpack(f"{n_rel}H") if n_rel else ()
        (imme,) = a.unpack("B4x")
        area_type, x, y, w, h = a.unpack("BHHHH")
        if area_type != GEN5_AREA_TYPE_DYNAMIC:
            raise RemoteProtocolError(f"area type {area_type:02X} is not a dynamic area")
        if a.u8() != 0:
            a.unpack("BBBBH")  # border: style, speed, step, width, backup ...
            raise RemoteProtocolError("area borders are not supported")
        (n_pages,) = a.unpack("H")
        if n_pages == 0:
            raise RemoteProtocolError("PageNum is 0")
        if w == 0 or h == 0:
            raise RemoteProtocolError("area has zero size")
        pages = []
        for _ in range(n_pages):
            (plen,) = a.unpack("I")
            p = _Reader(a.take(plen), "page")
            _style, mode, clear, speed, stay, repeat, _valid = p.unpack("BBBBHBH4x")
            bmp = decode_gen5_pixels(p.rest(), w, h, x, colour.dual)
            pages.append(DynamicPage(bmp, mode, clear, speed, stay, repeat))
        if a.pos != len(a.data):
            raise RemoteProtocolError("bytes after the last page")
        return DynamicAreaUpdate(
            area_id, x, y, tuple(pages), colour, run_mode, timeout, imme, bool(relate_all),
            tuple(related),
        )
    return UnknownCommand(group, cmd, r.rest())


# --------------------------------------------------------------------------------------
# Replies ([5G] §5.1.2, §5.3): Reserved, CmdGroup, Cmd, Status(2), Error(2), DataLen(2), Data
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gen5Response:
    group: int
    cmd: int
    status: int = 0
    error: int = 0
    data: bytes = b""

    def encode(self) -> bytes:
        return struct.pack("<BBBHHH", 0, self.group, self.cmd, self.status, self.error,
                           len(self.data)) + self.data

    @classmethod
    def decode(cls, data: bytes) -> Gen5Response:
        r = _Reader(data, "response")
        _res, group, cmd, status, error, n = r.unpack("BBBHHH")
        body = r.take(n)
        if r.pos != len(data):
            raise RemoteProtocolError("bytes after the response data")
        return cls(group, cmd, status, error, body)

    def to_reply(self, source: int | None) -> Reply:
        command = f"{self.group:02X} {self.cmd:02X}"
        if (self.group, self.cmd) == CMD_NACK or self.status & 0x01:
            return Reply(ReplyKind.NACK, command, self.error, error_message(self.error),
                         source, self.data)
        if (self.group, self.cmd) == CMD_ACK:
            return Reply(ReplyKind.ACK, command, 0, "", source, self.data)
        return Reply(ReplyKind.DATA, command, self.error, "", source, self.data)


def gen5_ack() -> Gen5Response:
    return Gen5Response(*CMD_ACK)


def gen5_nack(error: int) -> Gen5Response:
    return Gen5Response(*CMD_NACK, status=0x01, error=error)


REPLY_MAX_FRAME_BYTES: Final = 4096
REQUEST_MAX_FRAME_BYTES: Final = 2 * (Gen5Header.SIZE + 16 + MAX_AREA_BYTES + CRC_LEN)


class OnbonReplyParser:
    """Replies of either header kind, as protocol-neutral :class:`Reply` objects."""

    def __init__(self, kind: HeaderKind, max_frame_bytes: int = REPLY_MAX_FRAME_BYTES) -> None:
        self._frames = FrameDecoder(kind, max_frame_bytes)

    def feed(self, data: bytes) -> None:
        self._frames.feed(data)

    def next_reply(self) -> Reply | None:
        pkt = self._frames.next_packet()
        if pkt is None:
            return None
        if isinstance(pkt.header, Gen5Header):
            return Gen5Response.decode(pkt.data).to_reply(pkt.header.src)
        return FontCardResponse.decode(pkt.data).to_reply(pkt.header.src)


# --------------------------------------------------------------------------------------
# Font-card real-time text ``A3 06`` ([5K] appendix; request prefix from public drivers)
# --------------------------------------------------------------------------------------
FONT_CARD_UNIT_PX: Final = 8
FONT_CARD_PIXEL_UNITS_FLAG: Final = 0x8000
"""X and width default to 8-pixel units; the high bit switches a field to pixels."""
FONT_CARD_MAX_TEXT_BYTES: Final = 1024
FONT_CARD_AREA_FIXED_LEN: Final = 27
FONT_CARD_SINGLE_LINE: Final = 0x01
FONT_CARD_MULTI_LINE: Final = 0x02
FONT_CARD_NO_WRAP: Final = 0x01
FONT_CARD_AUTO_WRAP: Final = 0x02
FONT_CARD_ESCAPE_CHAR: Final = "\\"  # starts the card's in-text control codes (\C1, \FO000…)
FONT_CARD_REPLACEMENT: Final = "□"  # in GB2312 (A1 F5), visible on any card


def _fc_x(px: int) -> int:
    if px % FONT_CARD_UNIT_PX == 0:
        return px // FONT_CARD_UNIT_PX
    if px >= FONT_CARD_PIXEL_UNITS_FLAG:
        raise LocalProtocolError(f"{px} px does not fit the font-card field")
    return px | FONT_CARD_PIXEL_UNITS_FLAG


def _fc_x_decode(raw: int) -> int:
    if raw & FONT_CARD_PIXEL_UNITS_FLAG:
        return raw & ~FONT_CARD_PIXEL_UNITS_FLAG
    return raw * FONT_CARD_UNIT_PX


@dataclass(frozen=True)
class FontCardText:
    """Real-time text for a font-card dynamic area. ``text`` is GB2312 bytes as sent."""

    text: bytes
    x: int
    y: int
    width: int
    height: int
    area_id: int = 0
    display_mode: int = FONT_CARD_DISPLAY_MODES[DisplayMode.STATIC]
    exit_mode: int = 0
    speed: int = 1
    stay_half_s: int = 10
    run_mode: int = 0
    timeout_s: int = 0
    line_spacing: int = 0
    single_line: int = FONT_CARD_MULTI_LINE
    new_line: int = FONT_CARD_AUTO_WRAP
    need_reply: bool = True
    process_mode: int = 0  # the vendor tool puts len+4 here; documented as ProcessMode
    delete_area_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if len(self.text) > FONT_CARD_MAX_TEXT_BYTES:
            raise LocalProtocolError(
                f"font-card text of {len(self.text)} bytes exceeds {FONT_CARD_MAX_TEXT_BYTES}"
            )
        for name in ("area_id", "display_mode", "exit_mode", "speed", "stay_half_s",
                     "run_mode", "line_spacing", "single_line", "new_line", "process_mode"):
            _check_u8(name, getattr(self, name))
        for name in ("y", "height", "timeout_s"):
            _check_u16(name, getattr(self, name))
        _fc_x(self.x)
        _fc_x(self.width)

    def encode(self) -> bytes:
        area = struct.pack(
            "<BHHHHBBBH3xBBBBBBI", 0x00, _fc_x(self.x), self.y, _fc_x(self.width), self.height,
            self.area_id, self.line_spacing, self.run_mode, self.timeout_s, self.single_line,
            self.new_line, self.display_mode, self.exit_mode, self.speed, self.stay_half_s,
            len(self.text),
        ) + self.text
        resp = FONT_CARD_RESPONSE_YES if self.need_reply else FONT_CARD_RESPONSE_NO
        head = bytes([*CMD_FONT_CARD_REALTIME, resp, self.process_mode, 0,
                      len(self.delete_area_ids), *self.delete_area_ids, 1])
        return head + struct.pack("<H", len(area)) + area


@dataclass(frozen=True)
class FontCardDelete:
    """``A3 06`` carrying only deletions: clears the named areas."""

    area_ids: tuple[int, ...]
    need_reply: bool = True

    def encode(self) -> bytes:
        resp = FONT_CARD_RESPONSE_YES if self.need_reply else FONT_CARD_RESPONSE_NO
        return bytes([*CMD_FONT_CARD_REALTIME, resp, 0, 0, len(self.area_ids),
                      *self.area_ids, 0])


@dataclass(frozen=True)
class FontCardPing:
    """``A2 00`` with the font-card header."""

    def encode(self) -> bytes:
        return bytes([*CMD_PING, FONT_CARD_RESPONSE_YES, 0, 0])


FontCardRequest = FontCardText | FontCardDelete | FontCardPing | UnknownCommand


def decode_font_card_request(data: bytes) -> FontCardRequest:
    r = _Reader(data, "font-card request")
    group, cmd, resp = r.unpack("BBB")
    if (group, cmd) == CMD_PING:
        r.take(2)
        return FontCardPing()
    if (group, cmd) != CMD_FONT_CARD_REALTIME:
        return UnknownCommand(group, cmd, r.rest())
    process_mode, _res, n_del = r.unpack("BBB")
    deleted = tuple(r.take(n_del))
    n_areas = r.u8()
    need_reply = resp != FONT_CARD_RESPONSE_NO
    if n_areas == 0:
        return FontCardDelete(deleted, need_reply)
    if n_areas != 1:
        raise RemoteProtocolError(f"{n_areas} areas in one A3 06 request are not supported")
    (alen,) = r.unpack("H")
    a = _Reader(r.take(alen), "font-card area")
    if r.pos != len(data):
        raise RemoteProtocolError("bytes after the font-card area")
    (_type, x, y, w, h, area_id, spacing, run, timeout, single, new_line, mode, exit_mode,
     speed, stay, tlen) = a.unpack("BHHHHBBBH3xBBBBBBI")
    if tlen > FONT_CARD_MAX_TEXT_BYTES:
        raise RemoteProtocolError(f"text length {tlen} exceeds {FONT_CARD_MAX_TEXT_BYTES}")
    text = a.take(tlen)
    if a.pos != len(a.data):
        raise RemoteProtocolError("bytes after the font-card text")
    return FontCardText(
        text, _fc_x_decode(x), y, _fc_x_decode(w), h, area_id, mode, exit_mode, speed, stay,
        run, timeout, spacing, single, new_line, need_reply, process_mode, deleted,
    )


@dataclass(frozen=True)
class FontCardResponse:
    """Font-card reply data: CmdGroup, Cmd, CmdError, 2 reserved, optional data."""

    group: int
    cmd: int
    error: int = 0
    data: bytes = b""

    def encode(self) -> bytes:
        return bytes([self.group, self.cmd, self.error, 0, 0]) + self.data

    @classmethod
    def decode(cls, data: bytes) -> FontCardResponse:
        r = _Reader(data, "font-card response")
        group, cmd, err = r.unpack("BBB")
        r.take(2)
        return cls(group, cmd, err, r.rest())

    def to_reply(self, source: int | None) -> Reply:
        command = f"{self.group:02X} {self.cmd:02X}"
        if (self.group, self.cmd) == CMD_NACK or self.error:
            return Reply(ReplyKind.NACK, command, self.error, error_message(self.error),
                         source, self.data)
        if (self.group, self.cmd) == CMD_ACK:
            return Reply(ReplyKind.ACK, command, 0, "", source, self.data)
        return Reply(ReplyKind.DATA, command, 0, "", source, self.data)


# --------------------------------------------------------------------------------------
# GB2312 text preparation for font cards
# --------------------------------------------------------------------------------------
def sanitize_font_card_text(text: str) -> tuple[str, tuple[TextProblem, ...]]:
    """Make ``text`` sendable to a GB2312 font card: characters outside GB2312, control
    characters and the card's escape character are replaced by a visible mark and
    reported; newlines become spaces (the card wraps by itself)."""
    out: list[str] = []
    problems: list[TextProblem] = []
    for i, ch in enumerate(text.replace("\r\n", "\n")):
        if ch == "\n":
            out.append(" ")
            continue
        reason = _font_card_char_problem(ch)
        if reason is None:
            out.append(ch)
            continue
        repl = "＼" if ch == FONT_CARD_ESCAPE_CHAR else FONT_CARD_REPLACEMENT
        problems.append(TextProblem(i, ch, reason, repl))
        out.append(repl)
    return "".join(out), tuple(problems)


def _font_card_char_problem(ch: str) -> str | None:
    if ch == FONT_CARD_ESCAPE_CHAR:
        return "backslash starts a font-card control code"
    if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
        return f"control character U+{ord(ch):04X}"
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return f"U+{ord(ch):04X} is not in GB2312 (the card's font has no glyph for it)"
    return None


def encode_font_card_text(text: str) -> bytes:
    """GB2312 bytes of ``text``. Raises LocalProtocolError naming every bad character."""
    problems = [(i, ch, r) for i, ch in enumerate(text)
                if (r := _font_card_char_problem(ch)) is not None]
    if problems:
        listed = "; ".join(f"{ch!r} at {i}: {r}" for i, ch, r in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise LocalProtocolError(
            f"text cannot be sent to a GB2312 font card: {listed}{more}; "
            "use sanitize_font_card_text() to replace them"
        )
    data = text.encode("gb2312")
    if len(data) > FONT_CARD_MAX_TEXT_BYTES:
        raise LocalProtocolError(
            f"text is {len(data)} GB2312 bytes, font cards take at most "
            f"{FONT_CARD_MAX_TEXT_BYTES}"
        )
    return data


# --------------------------------------------------------------------------------------
# Board protocols the driver uses
# --------------------------------------------------------------------------------------
ONBON_SERIAL: Final = SerialSettings(9600, 8, "N", 1)  # [5G] §1.2: 9600/57600, N, 8, 1


@dataclass
class OnbonGraphic(BoardProtocol):
    """BX-5E/5Q class controllers driven through a graphic dynamic area: we render every
    pixel, so any Chinese text and any font works."""

    geometry: BoardGeometry
    address: int = 1
    device_type: int = GEN5_DEVICE_WILDCARD
    area_id: int = 0
    colour: Gen5Colour = Gen5Colour.MONO

    name: ClassVar[str] = "onbon-bx5e"
    accepts: ClassVar[Literal["bitmap", "text"]] = "bitmap"
    default_serial: ClassVar[SerialSettings] = ONBON_SERIAL

    def __post_init__(self) -> None:
        _check_u16("address", self.address)
        self._header = Gen5Header(self.address, device_type=self.device_type)

    def encode_show(
        self, content: Sequence[Bitmap] | str, options: ShowOptions | None = None
    ) -> list[bytes]:
        options = options or ShowOptions()
        if isinstance(content, str):
            raise LocalProtocolError(f"{self.name} takes rendered pages, not text")
        g = self.geometry
        for i, bmp in enumerate(content):
            if (bmp.width, bmp.height) != (g.width, g.height):
                raise LocalProtocolError(
                    f"page {i} is {bmp.width}x{bmp.height}, board is {g.width}x{g.height}"
                )
        mode = GEN5_DISPLAY_MODES[options.mode]
        stay = min(round(options.stay_s * 100), 0xFFFF)
        pages = tuple(DynamicPage(b, mode, 0, options.speed, stay) for b in content)
        msg = DynamicAreaUpdate(self.area_id, g.x, g.y, pages, self.colour)
        return [encode_frame(self._header, msg.encode())]

    def encode_clear(self) -> list[bytes]:
        return [encode_frame(self._header, DynamicAreaDelete((self.area_id,)).encode())]

    def encode_ping(self) -> bytes:
        return encode_frame(self._header, Gen5Ping().encode())

    def encode_brightness(self, level: int) -> bytes:
        """Manual brightness 0 (dimmest) .. 15, for quiet hours."""
        return encode_frame(self._header, Gen5Brightness(level).encode())

    def reply_parser(self) -> OnbonReplyParser:
        return OnbonReplyParser(HeaderKind.GEN5)


@dataclass
class OnbonFontCard(BoardProtocol):
    """BX-5K/6K font cards: we send GB2312 text, the card renders it with its own fonts."""

    geometry: BoardGeometry
    address: int = 1
    device_type: int = FONT_CARD_DEVICE_WILDCARD
    area_id: int = 0

    name: ClassVar[str] = "onbon-bx5k"
    accepts: ClassVar[Literal["bitmap", "text"]] = "text"
    default_serial: ClassVar[SerialSettings] = ONBON_SERIAL

    def __post_init__(self) -> None:
        _check_u16("address", self.address)
        self._header = FontCardHeader(self.address, device_type=self.device_type)

    def encode_show(
        self, content: Sequence[Bitmap] | str, options: ShowOptions | None = None
    ) -> list[bytes]:
        options = options or ShowOptions()
        if not isinstance(content, str):
            raise LocalProtocolError(f"{self.name} renders text itself; send text, not pages")
        g = self.geometry
        msg = FontCardText(
            encode_font_card_text(content), g.x, g.y, g.width, g.height, self.area_id,
            FONT_CARD_DISPLAY_MODES[options.mode], 0, options.speed,
            min(round(options.stay_s * 2), 0xFF),
        )
        return [encode_frame(self._header, msg.encode())]

    def encode_clear(self) -> list[bytes]:
        return [encode_frame(self._header, FontCardDelete((self.area_id,)).encode())]

    def encode_ping(self) -> bytes:
        return encode_frame(self._header, FontCardPing().encode())

    def reply_parser(self) -> OnbonReplyParser:
        return OnbonReplyParser(HeaderKind.FONT_CARD)
