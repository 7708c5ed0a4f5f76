"""Alpha Sign Communications Protocol (Adaptive Micro Systems; BetaBrite, Alpha 2xx/4xx/7xx),
sans-IO.

Source (read, not copied): "Alpha Sign Communications Protocol" 9708-8061 (rev. F, 2006),
§5.1 standard transmission packet, §6.1 TEXT file commands (display positions, modes,
colour control 0x1C, call SMALL DOTS PICTURE 0x14), §6.2 SPECIAL FUNCTION "E$" memory
configuration, §6.4 SMALL DOTS PICTURE. Cross-checked with the alphasignpy protocol
reference (packet fields, checksum = 16-bit sum STX..ETX as 4 hex digits, 100 ms pause
after a picture's size). These signs have no CJK fonts, so Chinese is sent as pictures we
render. Unverified details are listed in docs/boards.md.

Everything we put on the wire is 7-bit ASCII, so packets work with either 8N1 or 7E1/7E2.
"""

from __future__ import annotations

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

NUL: Final = 0x00
SOH: Final = 0x01
STX: Final = 0x02
ETX: Final = 0x03
EOT: Final = 0x04
ESC: Final = 0x1B
CR: Final = 0x0D
FRAMING_BYTES: Final = frozenset({NUL, SOH, STX, ETX, EOT})
SYNC_NULS: Final = 5  # "at least five NULs" so the sign can auto-baud

TYPE_ALL_SIGNS: Final = "Z"
TYPE_RESPONSE: Final = "0"  # type code of packets a sign sends back
BROADCAST: Final = 0x00

CMD_WRITE_TEXT: Final = "A"
CMD_READ_TEXT: Final = "B"
CMD_WRITE_SPECIAL: Final = "E"
CMD_READ_SPECIAL: Final = "F"
CMD_WRITE_DOTS: Final = "I"
CMD_READ_DOTS: Final = "J"

SPECIAL_MEMORY_CONFIG: Final = "$"
SPECIAL_TIME_OF_DAY: Final = " "

# Display positions and modes (§6.1.1, §6.1.2).
POSITIONS: Final[dict[str, str]] = {
    "middle": " ", "top": '"', "bottom": "&", "fill": "0", "left": "1", "right": "2",
}
MODES: Final[dict[str, str]] = {
    "rotate": "a", "hold": "b", "flash": "c", "roll_up": "e", "roll_down": "f",
    "roll_left": "g", "roll_right": "h", "wipe_up": "i", "wipe_down": "j", "wipe_left": "k",
    "wipe_right": "l", "scroll": "m", "automode": "o", "roll_in": "p", "roll_out": "q",
    "wipe_in": "r", "wipe_out": "s", "compressed_rotate": "t",
}
NEUTRAL_MODES: Final[dict[DisplayMode, str]] = {
    DisplayMode.STATIC: MODES["hold"],
    DisplayMode.SCROLL_LEFT: MODES["rotate"],
    DisplayMode.SCROLL_UP: MODES["roll_up"],
}
COLOUR_CONTROL: Final = 0x1C
COLOURS: Final[dict[str, str]] = {
    "red": "1", "green": "2", "amber": "3", "dim_red": "4", "dim_green": "5", "brown": "6",
    "orange": "7", "yellow": "8", "rainbow1": "9", "rainbow2": "A", "mix": "B", "auto": "C",
}
CALL_SMALL_DOTS: Final = 0x14

# SMALL DOTS PICTURE pixel characters (§6.4).
DOTS_PIXELS: Final[dict[str, str]] = {"off": "0", "red": "1", "green": "2", "amber": "3"}
DOTS_MAX_SIDE: Final = 0xFF  # height and width travel as two hex digits

# Memory configuration (§6.2, "E$").
FILE_TYPES: Final[dict[str, str]] = {"text": "A", "string": "B", "dots": "D"}
DOTS_COLOUR_STATUS: Final[dict[str, str]] = {
    "mono": "1000", "tricolour": "2000", "octocolour": "8000",
}
TEXT_ALWAYS: Final = "FF00"  # start time FF = always, stop time ignored
PICTURE_LABELS: Final = "123456789BCDEFGHIJKLMNOPQRSTUVWXYZ"  # "0" is the priority file
TEXT_LABEL: Final = "A"

MAX_PACKET_BYTES: Final = 128 * 1024  # generous: 255x255 picture ~ 65 KiB
MAX_TEXT_BYTES: Final = 0xFFFF  # the size field of E$ is 4 hex digits


def _check_label(label: str) -> None:
    if len(label) != 1 or not 0x20 <= ord(label) <= 0x75:
        raise LocalProtocolError(f"file label {label!r} must be one character 0x20..0x75")


def checksum(block: bytes) -> bytes:
    """Four ASCII hex digits of the 16-bit sum of ``block`` (STX through ETX inclusive)."""
    return f"{sum(block) & 0xFFFF:04X}".encode("ascii")


def address_field(address: int) -> bytes:
    if not 0 <= address <= 0xFF:
        raise LocalProtocolError(f"Alpha sign address {address} outside 0..255")
    return f"{address:02X}".encode("ascii")


# --------------------------------------------------------------------------------------
# Commands (what goes between STX and ETX)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TextSegment:
    """One mode field of a TEXT file: ESC, position, mode code, then the message bytes."""

    body: bytes
    position: str = POSITIONS["fill"]
    mode: str = MODES["hold"]

    def __post_init__(self) -> None:
        if self.position not in POSITIONS.values():
            raise LocalProtocolError(f"unknown display position {self.position!r}")
        if self.mode not in MODES.values():
            raise LocalProtocolError(f"unknown display mode {self.mode!r}")
        bad = sorted({b for b in self.body if b in FRAMING_BYTES or b == ESC or b > 0x7F})
        if bad:
            raise LocalProtocolError(
                f"TEXT body contains bytes the protocol reserves: {[hex(b) for b in bad]}"
            )


@dataclass(frozen=True)
class WriteText:
    label: str
    segments: tuple[TextSegment, ...]

    def __post_init__(self) -> None:
        _check_label(self.label)

    def encode(self) -> tuple[str, bytes]:
        data = self.label.encode("ascii") + b"".join(
            bytes([ESC]) + s.position.encode() + s.mode.encode() + s.body for s in self.segments
        )
        if len(data) > MAX_TEXT_BYTES:
            raise LocalProtocolError(f"TEXT file of {len(data)} bytes is too large")
        return CMD_WRITE_TEXT, data


@dataclass(frozen=True)
class WriteSmallDots:
    """A SMALL DOTS PICTURE: rows of pixel characters, each row ended by CR."""

    label: str
    bitmap: Bitmap
    on_pixel: str = DOTS_PIXELS["red"]

    def __post_init__(self) -> None:
        _check_label(self.label)
        if self.bitmap.width > DOTS_MAX_SIDE or self.bitmap.height > DOTS_MAX_SIDE:
            raise LocalProtocolError(
                f"picture {self.bitmap.width}x{self.bitmap.height} exceeds 255x255"
            )
        if self.on_pixel not in DOTS_PIXELS.values() or self.on_pixel == "0":
            raise LocalProtocolError(f"invalid pixel colour {self.on_pixel!r}")

    def size_field(self) -> bytes:
        return f"{self.bitmap.height:02X}{self.bitmap.width:02X}".encode("ascii")

    def encode(self) -> tuple[str, bytes]:
        on = self.on_pixel.encode()
        rows = b"".join(
            b"".join(on if p else b"0" for p in _row_pixels(self.bitmap, y)) + bytes([CR])
            for y in range(self.bitmap.height)
        )
        return CMD_WRITE_DOTS, self.label.encode() + self.size_field() + rows


def _row_pixels(bmp: Bitmap, y: int) -> list[bool]:
    row = bmp.row(y)
    return [bool(row[x // 8] & (0x80 >> (x % 8))) for x in range(bmp.width)]


@dataclass(frozen=True)
class MemoryEntry:
    """One file in the sign's memory map."""

    label: str
    kind: Literal["text", "string", "dots"]
    size: int = 0  # bytes, for text and string files
    dots_size: tuple[int, int] = (0, 0)  # (height, width), for dots files
    dots_colour: Literal["mono", "tricolour", "octocolour"] = "tricolour"
    locked: bool = False

    def __post_init__(self) -> None:
        _check_label(self.label)
        if not 0 <= self.size <= 0xFFFF:
            raise LocalProtocolError(f"file size {self.size} does not fit 4 hex digits")
        h, w = self.dots_size
        if not (0 <= h <= DOTS_MAX_SIDE and 0 <= w <= DOTS_MAX_SIDE):
            raise LocalProtocolError(f"picture size {self.dots_size} exceeds 255x255")

    def encode(self) -> bytes:
        lock = "L" if self.locked else "U"
        if self.kind == "dots":
            size = f"{self.dots_size[0]:02X}{self.dots_size[1]:02X}"
            tail = DOTS_COLOUR_STATUS[self.dots_colour]
        else:
            size = f"{self.size:04X}"
            tail = TEXT_ALWAYS if self.kind == "text" else "0000"
        return f"{self.label}{FILE_TYPES[self.kind]}{lock}{size}{tail}".encode("ascii")


@dataclass(frozen=True)
class WriteMemoryConfig:
    """``E$``: allocate files. Clears the sign's memory, so it precedes the file writes."""

    entries: tuple[MemoryEntry, ...]

    def encode(self) -> tuple[str, bytes]:
        return CMD_WRITE_SPECIAL, SPECIAL_MEMORY_CONFIG.encode() + b"".join(
            e.encode() for e in self.entries
        )


@dataclass(frozen=True)
class ReadSpecial:
    label: str

    def encode(self) -> tuple[str, bytes]:
        return CMD_READ_SPECIAL, self.label.encode("ascii")


@dataclass(frozen=True)
class WriteSpecial:
    """A SPECIAL FUNCTION write other than ``E$`` (also how a sign answers a read)."""

    label: str
    data: bytes = b""

    def encode(self) -> tuple[str, bytes]:
        return CMD_WRITE_SPECIAL, self.label.encode("ascii") + self.data


@dataclass(frozen=True)
class UnknownAlphaCommand:
    code: str
    data: bytes


AlphaCommand = (
    WriteText | WriteSmallDots | WriteMemoryConfig | ReadSpecial | WriteSpecial
    | UnknownAlphaCommand
)


# --------------------------------------------------------------------------------------
# Packets
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlphaPacket:
    type_code: str
    address: int
    code: str
    data: bytes


def encode_packet(
    code: str, data: bytes, *, type_code: str = TYPE_ALL_SIGNS, address: int = BROADCAST,
    with_checksum: bool = True, split_after: int | None = None,
) -> list[bytes]:
    """One command in one packet. ``split_after`` cuts the bytes after that many data bytes
    so the transport can pause there (DOTS pictures need 100 ms after their size)."""
    bad = sorted({b for b in data if b in FRAMING_BYTES})
    if bad:
        raise LocalProtocolError(f"command data contains framing bytes {[hex(b) for b in bad]}")
    if len(type_code) != 1 or not 0x20 <= ord(type_code) <= 0x7E:
        raise LocalProtocolError(f"bad type code {type_code!r}")
    head = bytes([NUL]) * SYNC_NULS + bytes([SOH]) + type_code.encode() + address_field(address)
    block = bytes([STX]) + code.encode("ascii") + data
    tail = b""
    if with_checksum:
        block += bytes([ETX])
        tail = checksum(block)
    packet = head + block + tail + bytes([EOT])
    if len(packet) > MAX_PACKET_BYTES:
        raise LocalProtocolError(f"packet of {len(packet)} bytes exceeds {MAX_PACKET_BYTES}")
    if split_after is None:
        return [packet]
    cut = len(head) + 2 + split_after
    return [packet[:cut], packet[cut:]]


class PacketDecoder:
    """Incremental packet splitter with a cap; junk and NULs between packets are skipped.

    Malformed packets are dropped from the buffer before RemoteProtocolError is raised.
    """

    def __init__(self, max_packet_bytes: int = MAX_PACKET_BYTES) -> None:
        self.max_packet_bytes = max_packet_bytes
        self.discarded = 0
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next_packet(self) -> AlphaPacket | None:
        buf = self._buf
        start = buf.find(SOH)
        if start < 0:
            self.discarded += len(buf)
            buf.clear()
            return None
        self.discarded += start
        del buf[:start]
        end = buf.find(EOT)
        restart = buf.find(SOH, 1, end if end >= 0 else len(buf))
        if restart > 0:
            del buf[:restart]
            raise RemoteProtocolError("packet truncated: a new SOH began inside it")
        if end < 0:
            if len(buf) > self.max_packet_bytes:
                buf.clear()
                raise RemoteProtocolError(
                    f"packet longer than {self.max_packet_bytes} bytes without EOT"
                )
            return None
        raw = bytes(buf[1:end])
        del buf[: end + 1]
        return _parse_packet(raw)


def _parse_packet(raw: bytes) -> AlphaPacket:
    if len(raw) < 5 or raw[3] != STX:
        raise RemoteProtocolError("packet lacks type code, address or STX")
    type_code = chr(raw[0])
    try:
        address = int(raw[1:3].decode("ascii"), 16)
    except ValueError as exc:
        raise RemoteProtocolError(f"bad address field {raw[1:3]!r}") from exc
    block = raw[3:]
    if STX in block[1:]:
        raise RemoteProtocolError("nested packets (several commands) are not supported")
    etx = block.find(ETX)
    if etx >= 0:
        got = block[etx + 1 :]
        if len(got) != 4:
            raise RemoteProtocolError(f"checksum must be 4 hex digits, got {got!r}")
        want = checksum(block[: etx + 1])
        if got.upper() != want:
            raise RemoteProtocolError(f"checksum mismatch: packet says {got!r}, computed {want!r}")
        block = block[:etx]
    code = chr(block[1])
    return AlphaPacket(type_code, address, code, block[2:])


def decode_command(code: str, data: bytes) -> AlphaCommand:
    """Parse a host-to-sign command (what a sign, e.g. our simulator, does)."""
    if code == CMD_WRITE_TEXT and data:
        label, rest = chr(data[0]), data[1:]
        parts = rest.split(bytes([ESC]))
        segs = [TextSegment(parts[0], POSITIONS["middle"], MODES["automode"])] if parts[0] else []
        for p in parts[1:]:
            if len(p) < 2:
                raise RemoteProtocolError("ESC without position and mode")
            try:
                segs.append(TextSegment(p[2:], chr(p[0]), chr(p[1])))
            except LocalProtocolError as exc:
                raise RemoteProtocolError(str(exc)) from exc
        return WriteText(label, tuple(segs))
    if code == CMD_WRITE_DOTS and len(data) >= 5:
        label = chr(data[0])
        try:
            h = int(data[1:3].decode(), 16)
            w = int(data[3:5].decode(), 16)
        except ValueError as exc:
            raise RemoteProtocolError("bad picture size") from exc
        rows = data[5:].split(bytes([CR]))
        if rows and rows[-1] == b"":
            rows.pop()
        if h == 0 or w == 0:
            raise RemoteProtocolError("picture of zero size")
        if len(rows) > h:
            raise RemoteProtocolError(f"picture has {len(rows)} rows, header says {h}")
        on_pixel = "1"
        pixels: list[bool] = []
        for y in range(h):
            row = rows[y] if y < len(rows) else b""
            if len(row) > w:
                raise RemoteProtocolError(f"row {y} has {len(row)} pixels, width is {w}")
            for c in row.ljust(w, b"0"):
                if chr(c) not in "0123456789":
                    raise RemoteProtocolError(f"invalid pixel character {chr(c)!r}")
                if c != ord("0"):
                    on_pixel = chr(c) if chr(c) in DOTS_PIXELS.values() else on_pixel
                pixels.append(c != ord("0"))
        return WriteSmallDots(label, Bitmap.from_pixels(w, h, pixels), on_pixel)
    if code == CMD_WRITE_SPECIAL and data[:1] == SPECIAL_MEMORY_CONFIG.encode():
        body = data[1:]
        if len(body) % 11:
            raise RemoteProtocolError("memory configuration entries are 11 bytes each")
        types = {v: k for k, v in FILE_TYPES.items()}
        entries = []
        for i in range(0, len(body), 11):
            e = body[i : i + 11].decode("ascii", "replace")
            kind = types.get(e[1])
            if kind is None:
                raise RemoteProtocolError(f"unknown file type {e[1]!r}")
            try:
                if kind == "dots":
                    colours = {v: k for k, v in DOTS_COLOUR_STATUS.items()}
                    entries.append(MemoryEntry(
                        e[0], "dots", 0, (int(e[3:5], 16), int(e[5:7], 16)),
                        colours.get(e[7:11], "tricolour"), e[2] == "L"))  # type: ignore[arg-type]
                else:
                    entries.append(MemoryEntry(
                        e[0], kind, int(e[3:7], 16), locked=e[2] == "L"))  # type: ignore[arg-type]
            except (ValueError, LocalProtocolError) as exc:
                raise RemoteProtocolError(f"bad memory entry {e!r}") from exc
        return WriteMemoryConfig(tuple(entries))
    if code == CMD_WRITE_SPECIAL and data:
        return WriteSpecial(chr(data[0]), data[1:])
    if code == CMD_READ_SPECIAL and len(data) == 1:
        return ReadSpecial(chr(data[0]))
    return UnknownAlphaCommand(code, data)


class AlphaReplyParser:
    """Signs answer only read commands; answers arrive as packets with type code "0"."""

    def __init__(self, max_packet_bytes: int = 4096) -> None:
        self._packets = PacketDecoder(max_packet_bytes)

    def feed(self, data: bytes) -> None:
        self._packets.feed(data)

    def next_reply(self) -> Reply | None:
        pkt = self._packets.next_packet()
        if pkt is None:
            return None
        return Reply(ReplyKind.DATA, pkt.code + (chr(pkt.data[0]) if pkt.data else ""), 0, "",
                     pkt.address, pkt.data[1:])


# --------------------------------------------------------------------------------------
# Text that Alpha fonts can show
# --------------------------------------------------------------------------------------
def sanitize_alpha_text(text: str) -> tuple[str, tuple[TextProblem, ...]]:
    """Printable ASCII only (the sign's fonts); anything else becomes '?' and is reported.
    Chinese should be rendered to pictures instead (``encode_show`` with pages)."""
    out: list[str] = []
    problems: list[TextProblem] = []
    for i, ch in enumerate(text):
        if 0x20 <= ord(ch) <= 0x7E:
            out.append(ch)
        else:
            problems.append(TextProblem(i, ch, f"U+{ord(ch):04X} not in the sign's ASCII font",
                                        "?"))
            out.append("?")
    return "".join(out), tuple(problems)


# --------------------------------------------------------------------------------------
# Board protocol
# --------------------------------------------------------------------------------------
ALPHA_SERIAL: Final = SerialSettings(9600, 7, "E", 1)  # 9708-8061; many guides say 9600 8N1


@dataclass
class AlphaSign(BoardProtocol):
    """An Alpha/BetaBrite sign: Chinese and all pages go as SMALL DOTS PICTUREs called from
    TEXT file "A"; plain ASCII text may go as TEXT with the sign's own font."""

    geometry: BoardGeometry
    address: int = BROADCAST
    type_code: str = TYPE_ALL_SIGNS
    with_checksum: bool = True
    on_pixel: str = DOTS_PIXELS["red"]
    colour: str = COLOURS["red"]

    name: ClassVar[str] = "alpha"
    accepts: ClassVar[Literal["bitmap", "text"]] = "bitmap"
    default_serial: ClassVar[SerialSettings] = ALPHA_SERIAL
    replies_to_show: ClassVar[bool] = False
    chunk_gap_s: ClassVar[float] = 0.1

    def __post_init__(self) -> None:
        address_field(self.address)
        if self.colour not in COLOURS.values():
            raise LocalProtocolError(f"unknown colour code {self.colour!r}")

    def _packet(self, cmd: tuple[str, bytes], split_after: int | None = None) -> list[bytes]:
        code, data = cmd
        return encode_packet(code, data, type_code=self.type_code, address=self.address,
                             with_checksum=self.with_checksum, split_after=split_after)

    def encode_show(
        self, content: Sequence[Bitmap] | str, options: ShowOptions | None = None
    ) -> list[bytes]:
        options = options or ShowOptions()
        mode = NEUTRAL_MODES[options.mode]
        if isinstance(content, str):
            clean, problems = sanitize_alpha_text(content)
            if problems:
                raise LocalProtocolError(
                    "Alpha fonts are ASCII only; render to pages instead (bad: "
                    + ", ".join(repr(p.char) for p in problems[:10]) + ")"
                )
            body = bytes([COLOUR_CONTROL]) + self.colour.encode() + clean.encode("ascii")
            text = WriteText(TEXT_LABEL, (TextSegment(body, POSITIONS["fill"], mode),))
            config = WriteMemoryConfig((MemoryEntry(TEXT_LABEL, "text", len(body) + 8),))
            return self._packet(config.encode()) + self._packet(text.encode())
        g = self.geometry
        if not content:
            raise LocalProtocolError("no pages to show")
        if len(content) > len(PICTURE_LABELS):
            raise LocalProtocolError(
                f"{len(content)} pages; an Alpha sign holds at most {len(PICTURE_LABELS)}"
            )
        for i, bmp in enumerate(content):
            if (bmp.width, bmp.height) != (g.width, g.height):
                raise LocalProtocolError(
                    f"page {i} is {bmp.width}x{bmp.height}, board is {g.width}x{g.height}"
                )
        labels = PICTURE_LABELS[: len(content)]
        body_segments = tuple(
            TextSegment(bytes([CALL_SMALL_DOTS]) + lab.encode(), POSITIONS["fill"], mode)
            for lab in labels
        )
        text = WriteText(TEXT_LABEL, body_segments)
        text_size = len(text.encode()[1])
        dots_colour: Literal["mono", "tricolour"] = "tricolour"
        config = WriteMemoryConfig(
            (
                MemoryEntry(TEXT_LABEL, "text", text_size),
                *(
                    MemoryEntry(lab, "dots", dots_size=(g.height, g.width),
                                dots_colour=dots_colour)
                    for lab in labels
                ),
            )
        )
        frames = self._packet(config.encode())
        for lab, bmp in zip(labels, content, strict=True):
            frames += self._packet(WriteSmallDots(lab, bmp, self.on_pixel).encode(),
                                   split_after=5)
        return frames + self._packet(text.encode())

    def encode_clear(self) -> list[bytes]:
        return self._packet(WriteText(TEXT_LABEL, (TextSegment(b" ", POSITIONS["fill"],
                                                               MODES["hold"]),)).encode())

    def encode_ping(self) -> bytes:
        return self._packet(ReadSpecial(SPECIAL_TIME_OF_DAY).encode())[0]

    def reply_parser(self) -> AlphaReplyParser:
        return AlphaReplyParser()


def encode_response(address: int, cmd: tuple[str, bytes]) -> bytes:
    """How a sign answers a read (used by the simulator): type code "0", checksum."""
    code, data = cmd
    return encode_packet(code, data, type_code=TYPE_RESPONSE, address=address)[0]
