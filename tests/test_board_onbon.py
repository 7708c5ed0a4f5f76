"""Onbon framing, CRC, messages and replies: published vectors, round trips, bad input."""

from __future__ import annotations

import ast
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from display_driver.bitmap import Bitmap
from display_driver.protocols import onbon
from display_driver.protocols.base import (
    BoardGeometry,
    LocalProtocolError,
    RemoteProtocolError,
    ReplyKind,
    ShowOptions,
)
from display_driver.simulator import OnbonFontCardSimulator, OnbonGraphicSimulator

# --- published test vectors ----------------------------------------------------------
# onbonlab/BX-V-VI, bx.dual.Aux.Data/5th动态区域用户手册.md §5.5.1 "Ping命令 命令示例".
GEN5_PING_DOC = bytes.fromhex(
    "a5a5a5a5a5a5a5a5" "feff0080f000feff0000000005000000" "01a2000000" "c686" "5a"
)
# Font-card ping; the same bytes appear in two independent public drivers (a C "BX4K"
# library's ping() example and an STM32 RS-485 controller source, both on GitHub).
FONT_CARD_PING = bytes.fromhex(
    "a5a5a5a5a5a5a5a5" "0100008000000000" "0000fe020500" "a200010000" "68f8" "5a"
)
# Font-card A3 06 "012345QRSTTV'B" on a 192x32 area, from the BX4K library's display()
# example (also printed, with a typo in the width byte, on deanled.cn's protocol page).
FONT_CARD_TEXT = bytes.fromhex(
    "a5a5a5a5a5a5a5a5" "010000800000000000 00fe023200".replace(" ", "")
    + "a306012d00000129 00".replace(" ", "")
    + "00000000001800200000000002000000000202030004050e000000"
    + "303132333435515253545456" "2742" "a87d" "5a"
)
# A captured A3 06 frame (GitHub, a Python test script posting to a CGI): GB2312 "℃" (A1 E6)
# and the card's own font code "\FO000" inside the text.
FONT_CARD_CAPTURE = bytes.fromhex(
    "a5a5a5a5a5a5a5a5" "01000080000000000000fe023500"
    "a306020000000 12c00".replace(" ", "")
    + "0000000c0040000c00010a0102000000000101010017021100000"
    + "05c464f3030305445 4d5045523a3231a1e6".replace(" ", "")
    + "82da5a"
)


def test_crc_table_matches_onbon_appendix() -> None:
    # First and last entries of the table printed in the 5th-gen manual, appendix 1.
    assert onbon.CRC_TABLE[:8] == (0x0000, 0xC0C1, 0xC181, 0x0140, 0xC301, 0x03C0, 0x0280,
                                   0xC241)
    assert onbon.CRC_TABLE[-4:] == (0x4100, 0x81C1, 0x8081, 0x4040)


def test_crc_known_values() -> None:
    assert onbon.crc16(b"123456789") == 0xBB3D  # CRC-16/ARC check value
    assert onbon.crc16(b"") == 0
    assert onbon.crc16(GEN5_PING_DOC[8:-3]) == 0x86C6


def test_gen5_ping_equals_manual_example() -> None:
    assert onbon.encode_frame(onbon.Gen5Header(0xFFFE), onbon.Gen5Ping().encode()) == (
        GEN5_PING_DOC
    )
    dec = onbon.FrameDecoder(onbon.HeaderKind.GEN5, 4096)
    dec.feed(GEN5_PING_DOC)
    pkt = dec.next_packet()
    assert pkt is not None and pkt.header == onbon.Gen5Header(0xFFFE)
    assert onbon.decode_gen5_request(pkt.data) == onbon.Gen5Ping()


def test_font_card_ping_vector() -> None:
    board = onbon.OnbonFontCard(BoardGeometry(64, 16), address=1)
    assert board.encode_ping() == FONT_CARD_PING


def test_font_card_text_vector_decodes_and_reencodes() -> None:
    dec = onbon.FrameDecoder(onbon.HeaderKind.FONT_CARD, 4096)
    dec.feed(FONT_CARD_TEXT)
    pkt = dec.next_packet()
    assert pkt is not None
    msg = onbon.decode_font_card_request(pkt.data)
    assert isinstance(msg, onbon.FontCardText)
    assert msg.text == b"012345QRSTTV'B"
    assert (msg.x, msg.y, msg.width, msg.height) == (0, 0, 192, 32)  # width 0x18 * 8 px
    assert (msg.display_mode, msg.speed, msg.stay_half_s, msg.timeout_s) == (3, 4, 5, 2)
    assert onbon.encode_frame(pkt.header, msg.encode()) == FONT_CARD_TEXT


def test_font_card_capture_with_gb2312() -> None:
    dec = onbon.FrameDecoder(onbon.HeaderKind.FONT_CARD, 4096)
    dec.feed(FONT_CARD_CAPTURE)
    pkt = dec.next_packet()
    assert pkt is not None
    msg = onbon.decode_font_card_request(pkt.data)
    assert isinstance(msg, onbon.FontCardText)
    assert msg.text.decode("gb2312") == "\\FO000TEMPER:21℃"
    assert (msg.area_id, msg.y, msg.height, msg.need_reply) == (1, 12, 12, False)


# --- escaping ------------------------------------------------------------------------
SPECIAL = st.sampled_from([0xA5, 0xA6, 0x5A, 0x5B])
PAYLOAD = st.lists(st.one_of(SPECIAL, st.integers(0, 255)), max_size=300).map(bytes)


@given(PAYLOAD)
def test_escape_never_leaves_frame_bytes(raw: bytes) -> None:
    wire = onbon.escape(raw)
    assert 0xA5 not in wire and 0x5A not in wire
    assert onbon.unescape(wire) == raw


@given(PAYLOAD, st.integers(0, 0xFFFF))
def test_frame_round_trip_any_payload(data: bytes, addr: int) -> None:
    frame = onbon.encode_frame(onbon.Gen5Header(addr), data)
    body = frame[onbon.PREAMBLE_LEN : -1]
    assert 0xA5 not in body and 0x5A not in body
    dec = onbon.FrameDecoder(onbon.HeaderKind.GEN5, 1 << 16)
    dec.feed(frame)
    pkt = dec.next_packet()
    assert pkt == onbon.Packet(onbon.Gen5Header(addr), data)


def test_gb2312_characters_needing_escape() -> None:
    # 功 = B9 A6 and 播 = B2 A5 contain escape bytes ([issue 3], "facts gathered").
    assert "功播".encode("gb2312") == b"\xb9\xa6\xb2\xa5"
    board = onbon.OnbonFontCard(BoardGeometry(64, 16))
    (frame,) = board.encode_show("功播")
    assert b"\xb9\xa6\x01\xb2\xa6\x02" in frame
    sim = OnbonFontCardSimulator(BoardGeometry(64, 16))
    sim.feed(frame)
    assert sim.text == "功播"


@pytest.mark.parametrize("bad", [b"\xa6\x03", b"\x5b\x00", b"\xa6"])
def test_bad_escape_is_remote_error(bad: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        onbon.unescape(b"\x01" + bad)


# --- round trips through the simulator ------------------------------------------------
def bitmaps(w: int, h: int) -> st.SearchStrategy[Bitmap]:
    stride = (w + 7) // 8
    mask = (0xFF << (stride * 8 - w)) & 0xFF if w % 8 else 0xFF

    def build(raw: bytes) -> Bitmap:
        data = bytearray(raw)
        for y in range(h):
            data[y * stride + stride - 1] &= mask
        return Bitmap(w, h, bytes(data))

    return st.binary(min_size=stride * h, max_size=stride * h).map(build)


GEOMS = st.sampled_from([(64, 16), (40, 16), (128, 32)])


def feed_in_ways(sim: OnbonGraphicSimulator | OnbonFontCardSimulator, frames: list[bytes],
                 how: str) -> bytes:
    out = bytearray()
    for f in frames:
        if how == "whole":
            out += sim.feed(f)
        elif how == "bytewise":
            for i in range(len(f)):
                out += sim.feed(f[i : i + 1])
        else:
            out += sim.feed(f + b"\x00\x13junk\x5a\xff")
    return bytes(out)


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.data(), GEOMS, st.sampled_from(["whole", "bytewise", "junk"]),
       st.sampled_from(list(onbon.Gen5Colour)), st.integers(0, 7))
def test_graphic_round_trip(data: st.DataObject, geom: tuple[int, int], how: str,
                            colour: onbon.Gen5Colour, x: int) -> None:
    w, h = geom
    pages = data.draw(st.lists(bitmaps(w, h), min_size=1, max_size=3))
    board = onbon.OnbonGraphic(BoardGeometry(w, h, x=x), address=7, colour=colour)
    sim = OnbonGraphicSimulator(BoardGeometry(w + x, h), address=7, colour=colour)
    replies = feed_in_ways(sim, board.encode_show(pages, ShowOptions(stay_s=2)), how)
    if how != "junk":
        assert sim.errors == []
    assert [p.crop(x, 0, w, h) for p in sim.pages] == pages
    parser = board.reply_parser()
    parser.feed(replies)
    reply = parser.next_reply()
    assert reply is not None and reply.kind is ReplyKind.ACK and reply.source_address == 7
    assert parser.next_reply() is None


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet=st.characters(codec="gb2312", exclude_characters="\\"), max_size=60),
       st.sampled_from(["whole", "bytewise", "junk"]))
def test_font_card_round_trip(text: str, how: str) -> None:
    clean, problems = onbon.sanitize_font_card_text(text)
    board = onbon.OnbonFontCard(BoardGeometry(64, 32), address=2, area_id=0)
    sim = OnbonFontCardSimulator(BoardGeometry(64, 32), address=2)
    replies = feed_in_ways(sim, board.encode_show(clean), how)
    assert sim.texts[0] == clean
    parser = board.reply_parser()
    parser.feed(replies)
    r = parser.next_reply()
    assert r is not None and r.ok
    if all(0x20 <= ord(c) < 0x7F or ord(c) > 0xFF for c in text):
        assert problems == ()


def test_delete_and_ping_and_brightness() -> None:
    g = BoardGeometry(64, 16)
    board = onbon.OnbonGraphic(g, address=1)
    sim = OnbonGraphicSimulator(g, address=1)
    sim.feed(board.encode_show([Bitmap.from_pixels(64, 16, [1] * 1024)])[0])
    assert sim.pages and sim.pages[0].ink() == 1024
    sim.feed(board.encode_clear()[0])
    assert sim.pages == ()
    sim.feed(board.encode_brightness(3))
    assert sim.brightness == 3
    p = board.reply_parser()
    p.feed(sim.feed(board.encode_ping()))
    assert p.next_reply() is not None


def test_pixel_coding_zero_means_on() -> None:
    bmp = Bitmap.from_strings(["#.......", "........"])
    assert onbon.encode_gen5_pixels(bmp, 0, onbon.Gen5Colour.MONO) == b"\x7f\xff"
    # area starting at x=3: three leading padding bits set to 1
    bmp2 = Bitmap.from_strings(["#####"])
    assert onbon.encode_gen5_pixels(bmp2, 3, onbon.Gen5Colour.MONO) == b"\xe0"


# --- replies -------------------------------------------------------------------------
def reply_frame(resp: onbon.Gen5Response, src: int = 1) -> bytes:
    return onbon.encode_frame(onbon.Gen5Header(onbon.SRC_ADDR_PC, src=src), resp.encode())


def test_nack_carries_error_message() -> None:
    p = onbon.OnbonReplyParser(onbon.HeaderKind.GEN5)
    p.feed(reply_frame(onbon.gen5_nack(onbon.ERR_CHECKSUM)))
    r = p.next_reply()
    assert r is not None and r.kind is ReplyKind.NACK and not r.ok
    assert r.error_code == 5 and "CRC" in r.message


def test_reply_parser_survives_garbage_and_truncation() -> None:
    p = onbon.OnbonReplyParser(onbon.HeaderKind.GEN5)
    ack = reply_frame(onbon.gen5_ack())
    p.feed(b"\x00\xffnoise" + ack[:20])  # truncated frame, then a new preamble
    assert p.next_reply() is None
    p.feed(ack)
    with pytest.raises(RemoteProtocolError, match="truncated"):
        p.next_reply()
    r = p.next_reply()
    assert r is not None and r.kind is ReplyKind.ACK


def test_corrupt_crc_is_reported_then_parser_continues() -> None:
    ack = bytearray(reply_frame(onbon.gen5_ack()))
    ack[-3] ^= 0x01 if ack[-3] not in (0xA4, 0x5B, 0xA7, 0x5A, 0xA5, 0xA6) else 0x10
    p = onbon.OnbonReplyParser(onbon.HeaderKind.GEN5)
    p.feed(bytes(ack) + reply_frame(onbon.gen5_ack()))
    with pytest.raises(RemoteProtocolError, match="CRC"):
        p.next_reply()
    assert p.next_reply() is not None


def test_oversize_frame_is_capped() -> None:
    dec = onbon.FrameDecoder(onbon.HeaderKind.GEN5, 64)
    dec.feed(b"\xa5" * 8 + b"\x01" * 100)
    with pytest.raises(RemoteProtocolError, match="longer than 64"):
        dec.next_packet()
    dec.feed(GEN5_PING_DOC)
    assert dec.next_packet() is not None


@pytest.mark.parametrize("cut", [1, 9, 20, 30])
def test_truncated_input_is_incomplete_not_error(cut: int) -> None:
    dec = onbon.FrameDecoder(onbon.HeaderKind.GEN5, 4096)
    dec.feed(GEN5_PING_DOC[:cut])
    assert dec.next_packet() is None


def test_length_field_mismatch_is_remote_error() -> None:
    phy1 = onbon.Gen5Header(1).pack(99) + b"\x01\xa2\x00\x00\x00"
    phy1 += struct.pack("<H", onbon.crc16(phy1))
    dec = onbon.FrameDecoder(onbon.HeaderKind.GEN5, 4096)
    dec.feed(onbon.PREAMBLE + onbon.escape(phy1) + b"\x5a")
    with pytest.raises(RemoteProtocolError, match="announces 99"):
        dec.next_packet()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_decoders_never_crash_on_noise(noise: bytes) -> None:
    for kind in onbon.HeaderKind:
        dec = onbon.FrameDecoder(kind, 256)
        dec.feed(noise)
        for _ in range(50):
            try:
                if dec.next_packet() is None:
                    break
            except RemoteProtocolError:
                continue
    for body in (noise, b"\x01\xa7\x00" + noise, b"\xa3\x06\x01" + noise):
        try:
            onbon.decode_gen5_request(body)
            onbon.decode_font_card_request(body)
        except RemoteProtocolError:
            pass


def test_simulator_nacks_unknown_and_bad_crc() -> None:
    sim = OnbonGraphicSimulator(BoardGeometry(64, 16), address=1)
    p = onbon.OnbonReplyParser(onbon.HeaderKind.GEN5)
    p.feed(sim.feed(onbon.encode_frame(onbon.Gen5Header(1), b"\x01\xa9\x09")))
    r = p.next_reply()
    assert r is not None and r.error_code == onbon.ERR_NOCMD
    bad = bytearray(onbon.encode_frame(onbon.Gen5Header(1), onbon.Gen5Ping().encode()))
    bad[-2] = 0x00
    p.feed(sim.feed(bytes(bad)))
    r = p.next_reply()
    assert r is not None and r.error_code == onbon.ERR_CHECKSUM


def test_simulator_ignores_other_addresses() -> None:
    sim = OnbonGraphicSimulator(BoardGeometry(64, 16), address=1)
    assert sim.feed(onbon.encode_frame(onbon.Gen5Header(2), onbon.Gen5Ping().encode())) == b""


# --- local misuse --------------------------------------------------------------------
def test_local_errors() -> None:
    g = BoardGeometry(64, 16)
    board = onbon.OnbonGraphic(g)
    with pytest.raises(LocalProtocolError, match="page 0 is 32x16"):
        board.encode_show([Bitmap.blank(32, 16)])
    with pytest.raises(LocalProtocolError, match="at least one page"):
        board.encode_show([])
    with pytest.raises(LocalProtocolError):
        board.encode_show("text")
    with pytest.raises(LocalProtocolError, match="exceeds the controller"):
        onbon.OnbonGraphic(BoardGeometry(1024, 1024)).encode_show([Bitmap.blank(1024, 1024)] * 3)
    with pytest.raises(LocalProtocolError):
        onbon.Gen5Header(0x10000)
    with pytest.raises(LocalProtocolError):
        onbon.Gen5Brightness(16)


def test_font_card_rejects_non_gb2312_with_clear_message() -> None:
    board = onbon.OnbonFontCard(BoardGeometry(64, 16))
    with pytest.raises(LocalProtocolError, match="not in GB2312") as exc:
        board.encode_show("停水😀通知")
    assert "U+1F600" in str(exc.value)
    with pytest.raises(LocalProtocolError, match="backslash"):
        board.encode_show("a\\C1b")
    with pytest.raises(LocalProtocolError, match="at most"):
        board.encode_show("字" * 600)
    clean, problems = onbon.sanitize_font_card_text("停水😀\x07通知\\n")
    assert clean == "停水□□通知＼n"
    assert [p.char for p in problems] == ["😀", "\x07", "\\"]


def test_protocol_package_has_no_io_imports() -> None:
    forbidden = {"serial", "threading", "time", "socket", "asyncio", "os", "PIL"}
    pkg = Path(onbon.__file__).parent
    for path in pkg.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for n in names:
                assert n.split(".")[0] not in forbidden, f"{path.name} imports {n}"
