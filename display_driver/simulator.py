"""A virtual board: eats the same bytes a real controller would, keeps what it shows, answers
like the controller, and draws its face to a PNG.

Pure: bytes in (``feed``), reply bytes out. Transports (pty, TCP, ``loop://``) wrap it
elsewhere. The simulator decodes with the protocol modules' *request* parsers, which are
independent of the encoders' code paths, so round-trip tests exercise both directions.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from PIL import Image, ImageChops, ImageDraw

from .bitmap import Bitmap
from .protocols import alpha, onbon
from .protocols.base import BoardGeometry, RemoteProtocolError
from .render import Renderer, bitmap_to_image, default_renderer

LED_ON_RGB: Final = (255, 64, 16)
LED_OFF_RGB: Final = (40, 12, 8)
BACKGROUND_RGB: Final = (8, 8, 8)
FONT_CARD_CODES: Final = re.compile(r"\\(?:F[A-Z]\d{3}|F\d{4}|[CBT]\d|n)")


@dataclass
class Faults:
    """Misbehaviour to inject, for testing the driver's error handling. Line-level faults
    (slow link, unplugging, unsolicited bytes) belong to the host (``simhost``)."""

    drop_replies: bool = False  # a board that never answers
    nack_error: int | None = None  # answer every request with this NACK error code (Onbon)
    corrupt_reply_crc: bool = False  # replies arrive with a wrong CRC/checksum
    drop_every: int = 0  # a flaky line: every Nth reply is lost (0 = none)
    noise: bytes = b""  # line noise sent before every reply

    def describe(self) -> str:
        """One line for operators (``juwu board simulate`` echoes it)."""
        parts = []
        if self.drop_replies:
            parts.append("never answers")
        if self.nack_error is not None:
            parts.append(f"NACK {self.nack_error} ({onbon.error_message(self.nack_error)})")
        if self.corrupt_reply_crc:
            parts.append("replies with a bad CRC")
        if self.drop_every:
            parts.append(f"loses 1 reply in {self.drop_every}")
        if self.noise:
            parts.append(f"{len(self.noise)} bytes of noise before each reply")
        return ", ".join(parts) or "none"


@dataclass
class _Common:
    geometry: BoardGeometry
    address: int
    faults: Faults = field(default_factory=Faults)
    renderer_factory: Callable[[], Renderer] = default_renderer
    pages: tuple[Bitmap, ...] = ()
    errors: list[str] = field(default_factory=list)
    requests: list[object] = field(default_factory=list)
    brightness: int = 15
    replies: int = 0  # replies the board meant to send (dropped ones included)

    def _deliver(self, reply: bytes) -> bytes:
        """Apply the line faults to one reply about to leave the board."""
        if not reply:
            return b""
        self.replies += 1
        f = self.faults
        if f.drop_replies or (f.drop_every and self.replies % f.drop_every == 0):
            return b""
        return f.noise + reply

    def _blank(self) -> tuple[Bitmap, ...]:
        return (Bitmap.blank(self.geometry.width, self.geometry.height),)

    def _place(self, x: int, y: int, area_pages: tuple[Bitmap, ...]) -> tuple[Bitmap, ...]:
        g = self.geometry
        return tuple(p.crop(-x, -y, g.width, g.height) if (x, y, p.width, p.height) != (
            0, 0, g.width, g.height) else p for p in area_pages)


class OnbonGraphicSimulator(_Common):
    """BX-5E controller with one screen; dynamic areas are composed page by page."""

    def __init__(self, geometry: BoardGeometry, address: int = 1,
                 colour: onbon.Gen5Colour = onbon.Gen5Colour.MONO,
                 faults: Faults | None = None) -> None:
        super().__init__(geometry, address, faults or Faults())
        self.colour = colour
        self.areas: dict[int, onbon.DynamicAreaUpdate] = {}
        self._frames = onbon.FrameDecoder(onbon.HeaderKind.GEN5, onbon.REQUEST_MAX_FRAME_BYTES)

    def _reply(self, resp: onbon.Gen5Response) -> bytes:
        if self.faults.nack_error is not None:
            resp = onbon.gen5_nack(self.faults.nack_error)
        header = onbon.Gen5Header(onbon.SRC_ADDR_PC, src=self.address)
        return self._deliver(_onbon_frame(header, resp.encode(), self.faults.corrupt_reply_crc))

    def _for_us(self, dst: int) -> bool:
        return dst in (self.address, onbon.BROADCAST_ADDRESS, onbon.GEN5_DEVICE_WILDCARD)

    def feed(self, data: bytes) -> bytes:
        self._frames.feed(data)
        out = bytearray()
        while True:
            try:
                pkt = self._frames.next_packet()
            except RemoteProtocolError as exc:
                self.errors.append(str(exc))
                if "CRC" in str(exc):
                    out += self._reply(onbon.gen5_nack(onbon.ERR_CHECKSUM))
                continue
            if pkt is None:
                return bytes(out)
            if not self._for_us(pkt.header.dst):
                continue
            out += self._reply(self._handle(pkt.data))

    def _handle(self, data: bytes) -> onbon.Gen5Response:
        try:
            req = onbon.decode_gen5_request(data, self.colour)
        except RemoteProtocolError as exc:
            self.errors.append(str(exc))
            return onbon.gen5_nack(onbon.ERR_SCREEN_PARA)
        self.requests.append(req)
        g = self.geometry
        if isinstance(req, onbon.DynamicAreaUpdate):
            if req.x + req.width > g.width or req.y + req.height > g.height:
                self.errors.append("dynamic area outside the screen")
                return onbon.gen5_nack(onbon.ERR_SCREEN_PARA)
            self.areas[req.area_id] = req
            self._compose()
        elif isinstance(req, onbon.DynamicAreaDelete):
            for a in list(self.areas) if req.area_ids is None else req.area_ids:
                self.areas.pop(a, None)
            self._compose()
        elif isinstance(req, onbon.Gen5Brightness):
            self.brightness = req.level
        elif isinstance(req, onbon.UnknownCommand):
            return onbon.gen5_nack(onbon.ERR_NOCMD)
        return onbon.gen5_ack()

    def _compose(self) -> None:
        if not self.areas:
            self.pages = ()
            return
        g = self.geometry
        n = max(len(a.pages) for a in self.areas.values())
        composed = []
        for i in range(n):
            img = Image.new("1", (g.width, g.height), 0)
            for a in self.areas.values():
                page = a.pages[i % len(a.pages)].bitmap
                img.paste(bitmap_to_image(page), (a.x, a.y))
            composed.append(Bitmap(g.width, g.height, img.tobytes()))
        self.pages = tuple(composed)


class OnbonFontCardSimulator(_Common):
    """BX-5K font card: decodes GB2312 text and draws it with its own 'card font'."""

    def __init__(self, geometry: BoardGeometry, address: int = 1,
                 faults: Faults | None = None) -> None:
        super().__init__(geometry, address, faults or Faults())
        self.texts: dict[int, str] = {}
        self._frames = onbon.FrameDecoder(onbon.HeaderKind.FONT_CARD,
                                          onbon.REQUEST_MAX_FRAME_BYTES)

    def _reply(self, resp: onbon.FontCardResponse) -> bytes:
        if self.faults.nack_error is not None:
            resp = onbon.FontCardResponse(*onbon.CMD_NACK, self.faults.nack_error)
        header = onbon.FontCardHeader(onbon.SRC_ADDR_PC, src=self.address)
        return self._deliver(_onbon_frame(header, resp.encode(), self.faults.corrupt_reply_crc))

    def feed(self, data: bytes) -> bytes:
        self._frames.feed(data)
        out = bytearray()
        while True:
            try:
                pkt = self._frames.next_packet()
            except RemoteProtocolError as exc:
                self.errors.append(str(exc))
                if "CRC" in str(exc):
                    out += self._reply(onbon.FontCardResponse(*onbon.CMD_NACK,
                                                              onbon.ERR_CHECKSUM))
                continue
            if pkt is None:
                return bytes(out)
            if pkt.header.dst not in (self.address, onbon.BROADCAST_ADDRESS):
                continue
            resp, wants = self._handle(pkt.data)
            if wants:
                out += self._reply(resp)

    def _handle(self, data: bytes) -> tuple[onbon.FontCardResponse, bool]:
        nack = onbon.FontCardResponse(*onbon.CMD_NACK, onbon.ERR_SCREEN_PARA)
        try:
            req = onbon.decode_font_card_request(data)
        except RemoteProtocolError as exc:
            self.errors.append(str(exc))
            return nack, True
        self.requests.append(req)
        ack = onbon.FontCardResponse(*onbon.CMD_ACK)
        if isinstance(req, onbon.FontCardText):
            try:
                text = req.text.decode("gb2312")
            except UnicodeDecodeError as exc:
                self.errors.append(f"text is not GB2312: {exc}")
                return nack, req.need_reply
            for a in req.delete_area_ids:
                self.texts.pop(a, None)
            self.texts[req.area_id] = FONT_CARD_CODES.sub("", text)
            self._draw()
            return ack, req.need_reply
        if isinstance(req, onbon.FontCardDelete):
            for a in req.area_ids:
                self.texts.pop(a, None)
            self._draw()
            return ack, req.need_reply
        if isinstance(req, onbon.UnknownCommand):
            return onbon.FontCardResponse(*onbon.CMD_NACK, onbon.ERR_NOCMD), True
        return ack, True

    @property
    def text(self) -> str | None:
        return self.texts.get(0) if self.texts else None

    def _draw(self) -> None:
        if not self.texts:
            self.pages = ()
            return
        g = self.geometry
        self.pages = self.renderer_factory().render(" ".join(self.texts.values()),
                                                    g.width, g.height).pages


class AlphaSimulator(_Common):
    """An Alpha sign: memory map, TEXT files, SMALL DOTS PICTUREs; silent on writes."""

    def __init__(self, geometry: BoardGeometry, address: int = alpha.BROADCAST,
                 faults: Faults | None = None) -> None:
        super().__init__(geometry, address, faults or Faults())
        self.memory: dict[str, alpha.MemoryEntry] = {}
        self.text_files: dict[str, alpha.WriteText] = {}
        self.pictures: dict[str, Bitmap] = {}
        self._packets = alpha.PacketDecoder()

    def feed(self, data: bytes) -> bytes:
        self._packets.feed(data)
        out = bytearray()
        while True:
            try:
                pkt = self._packets.next_packet()
            except RemoteProtocolError as exc:
                self.errors.append(str(exc))
                continue
            if pkt is None:
                return bytes(out)
            if pkt.address not in (alpha.BROADCAST, self.address):
                continue
            try:
                cmd = alpha.decode_command(pkt.code, pkt.data)
            except RemoteProtocolError as exc:
                self.errors.append(str(exc))
                continue
            self.requests.append(cmd)
            out += self._handle(cmd)

    def _handle(self, cmd: alpha.AlphaCommand) -> bytes:
        if isinstance(cmd, alpha.WriteMemoryConfig):
            self.memory = {e.label: e for e in cmd.entries}
            self.text_files.clear()
            self.pictures.clear()
        elif isinstance(cmd, alpha.WriteSmallDots):
            entry = self.memory.get(cmd.label)
            if entry is None or entry.kind != "dots" or entry.dots_size != (
                cmd.bitmap.height, cmd.bitmap.width
            ):
                self.errors.append(f"picture {cmd.label!r} not allocated at that size")
            else:
                self.pictures[cmd.label] = cmd.bitmap
        elif isinstance(cmd, alpha.WriteText):
            entry = self.memory.get(cmd.label)
            if cmd.label != "0" and (entry is None or entry.kind != "text"):
                self.errors.append(f"TEXT file {cmd.label!r} not allocated")
            else:
                self.text_files[cmd.label] = cmd
        elif isinstance(cmd, alpha.ReadSpecial):
            # Alpha signs have no NACK: nack_error does not apply to them.
            reply = alpha.encode_response(self.address, alpha.WriteSpecial(cmd.label, b"0000")
                                          .encode())
            if self.faults.corrupt_reply_crc:  # 4 hex digits + EOT end the packet
                wrong = (int(reply[-5:-1], 16) + 1) & 0xFFFF
                reply = reply[:-5] + f"{wrong:04X}".encode() + reply[-1:]
            return self._deliver(reply)
        self._compose()
        return b""

    def _compose(self) -> None:
        f = self.text_files.get("0") or self.text_files.get(alpha.TEXT_LABEL)
        if f is None:
            self.pages = ()
            return
        g = self.geometry
        pages: list[Bitmap] = []
        for seg in f.segments:
            if seg.body[:1] == bytes([alpha.CALL_SMALL_DOTS]) and len(seg.body) >= 2:
                pic = self.pictures.get(chr(seg.body[1]))
                if pic is not None:
                    pages.append(pic.crop(0, 0, g.width, g.height))
                continue
            text = re.sub(rb"\x1c.", b"", seg.body).decode("ascii", "replace").strip()
            if text:
                pages.extend(self.renderer_factory().render(text, g.width, g.height).pages)
            else:
                pages.append(Bitmap.blank(g.width, g.height))
        self.pages = tuple(pages)


def _onbon_frame(header: onbon.Header, data: bytes, corrupt_crc: bool) -> bytes:
    """A reply frame as the board sends it; ``corrupt_crc`` flips the CRC (a line fault)."""
    if not corrupt_crc:
        return onbon.encode_frame(header, data)
    phy1 = header.pack(len(data)) + data
    phy1 += struct.pack("<H", onbon.crc16(phy1) ^ 0xFFFF)
    return onbon.PREAMBLE + onbon.escape(phy1) + bytes([onbon.FRAME_END])


Simulator = OnbonGraphicSimulator | OnbonFontCardSimulator | AlphaSimulator


def make_simulator(protocol: str, width: int, height: int, address: int = 1,
                   faults: Faults | None = None) -> Simulator:
    """A simulator for a protocol name as used in ``display_driver.protocols.PROTOCOLS``."""
    g = BoardGeometry(width, height)
    if protocol == onbon.OnbonGraphic.name:
        return OnbonGraphicSimulator(g, address, faults=faults)
    if protocol == onbon.OnbonFontCard.name:
        return OnbonFontCardSimulator(g, address, faults=faults)
    if protocol == alpha.AlphaSign.name:
        return AlphaSimulator(g, address, faults=faults)
    raise ValueError(f"no simulator for protocol {protocol!r}")


def render_face(bmp: Bitmap | None, width: int, height: int, *, scale: int = 4,
                led_look: bool = True, brightness: int = 15) -> Image.Image:
    """What passers-by see: lit and unlit LEDs, scaled up, as an RGB image."""
    if scale < 1:
        raise ValueError("scale must be >= 1")
    bmp = bmp or Bitmap.blank(width, height)
    lit = bitmap_to_image(bmp).resize((width * scale, height * scale), Image.Resampling.NEAREST)
    if led_look and scale >= 3:
        tile = Image.new("1", (scale, scale), 0)
        ImageDraw.Draw(tile).ellipse((0, 0, scale - 2, scale - 2), fill=1)
        row = Image.new("1", (width * scale, scale), 0)
        for x in range(width):
            row.paste(tile, (x * scale, 0))
        dots = Image.new("1", (width * scale, height * scale), 0)
        for y in range(height):
            dots.paste(row, (0, y * scale))
    else:
        dots = Image.new("1", lit.size, 1)
    lit = ImageChops.logical_and(lit, dots)
    k = 0.35 + 0.65 * min(max(brightness, 0), 15) / 15
    on = Image.new("RGB", lit.size, tuple(int(c * k) for c in LED_ON_RGB))
    off = Image.composite(Image.new("RGB", lit.size, LED_OFF_RGB),
                          Image.new("RGB", lit.size, BACKGROUND_RGB), dots)
    return Image.composite(on, off, lit)


def snapshot(sim: Simulator, page: int = 0, *, scale: int = 4,
             led_look: bool = True) -> Image.Image:
    """The simulator's current page ``page`` as an image (blank board if nothing shown)."""
    g = sim.geometry
    bmp = sim.pages[page % len(sim.pages)] if sim.pages else None
    return render_face(bmp, g.width, g.height, scale=scale, led_look=led_look,
                       brightness=sim.brightness)


def pages_png(sim: Simulator) -> bytes:
    """Every page the simulator shows, one pixel per LED (white = on), stacked top to
    bottom in a 1-bit PNG: a few hundred bytes, for BoardStatus.preview_png."""
    g = sim.geometry
    pages = sim.pages or (Bitmap.blank(g.width, g.height),)
    sheet = Image.new("1", (g.width, g.height * len(pages)), 0)
    for i, page in enumerate(pages):
        sheet.paste(bitmap_to_image(page), (0, i * g.height))
    out = io.BytesIO()
    sheet.save(out, format="PNG", optimize=True)
    return out.getvalue()


def save_png(sim: Simulator, path: str | Path, page: int = 0, *, scale: int = 4,
             led_look: bool = True) -> Path:
    out = Path(path)
    snapshot(sim, page, scale=scale, led_look=led_look).save(out, format="PNG")
    return out
