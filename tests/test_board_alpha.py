"""Alpha Sign Communications Protocol: packets, checksum, DOTS pictures, E$, replies."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from display_driver.bitmap import Bitmap
from display_driver.protocols import alpha
from display_driver.protocols.base import (
    BoardGeometry,
    LocalProtocolError,
    RemoteProtocolError,
    ReplyKind,
    ShowOptions,
)
from display_driver.render import default_renderer
from display_driver.simulator import AlphaSimulator


def test_packet_layout_and_checksum() -> None:
    (pkt,) = alpha.encode_packet("A", b"A\x1b0bHI", address=0x01)
    # 5 NULs, SOH, type "Z", address "01", STX, command, data, ETX, 4 hex checksum, EOT
    assert pkt.startswith(b"\x00" * 5 + b"\x01Z01\x02AA\x1b0bHI\x03")
    block = b"\x02AA\x1b0bHI\x03"
    assert pkt[-5:-1] == f"{sum(block):04X}".encode() and pkt.endswith(b"\x04")


def test_packet_without_checksum() -> None:
    (pkt,) = alpha.encode_packet("A", b"AHI", with_checksum=False)
    assert pkt == b"\x00" * 5 + b"\x01Z00\x02AAHI\x04"
    dec = alpha.PacketDecoder()
    dec.feed(pkt)
    assert dec.next_packet() == alpha.AlphaPacket("Z", 0, "A", b"AHI")


def test_everything_on_the_wire_is_seven_bit() -> None:
    board = alpha.AlphaSign(BoardGeometry(64, 16))
    pages = default_renderer().render("居务公开停水通知", 64, 16).pages
    for frame in board.encode_show(pages):
        assert max(frame) < 0x80  # so 7E1/7E2 lines carry it unchanged


def test_memory_config_entries() -> None:
    cmd = alpha.WriteMemoryConfig((
        alpha.MemoryEntry("A", "text", 0x100),
        alpha.MemoryEntry("1", "dots", dots_size=(16, 64)),
    ))
    assert cmd.encode() == ("E", b"$AAU0100FF001DU10402000")
    assert alpha.decode_command(*cmd.encode()) == cmd


def test_small_dots_rows() -> None:
    bmp = Bitmap.from_strings(["#.#", ".#."])
    code, data = alpha.WriteSmallDots("1", bmp).encode()
    assert (code, data) == ("I", b"10203101\r010\r")
    assert alpha.decode_command(code, data) == alpha.WriteSmallDots("1", bmp)


@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.binary(min_size=8 * 16, max_size=8 * 16), min_size=1, max_size=3),
       st.sampled_from(["whole", "bytewise", "junk"]), st.booleans())
def test_pages_round_trip_through_simulator(raws: list[bytes], how: str, chk: bool) -> None:
    pages = [Bitmap(64, 16, r) for r in raws]
    g = BoardGeometry(64, 16)
    board = alpha.AlphaSign(g, address=5, with_checksum=chk)
    sim = AlphaSimulator(g, address=5)
    for f in board.encode_show(pages, ShowOptions()):
        if how == "whole":
            sim.feed(f)
        elif how == "bytewise":
            for i in range(len(f)):
                sim.feed(f[i : i + 1])
        else:
            # junk between packets only (a DOTS packet arrives in two chunks)
            sim.feed(f + (b"\x00\x00garbage\xff" if f.endswith(b"\x04") else b""))
    assert sim.pages == tuple(pages)
    if how != "junk":
        assert sim.errors == []


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1,
               max_size=40))
def test_ascii_text_round_trip(text: str) -> None:
    g = BoardGeometry(64, 16)
    board = alpha.AlphaSign(g)
    sim = AlphaSimulator(g)
    for f in board.encode_show(text):
        sim.feed(f)
    (seg,) = sim.text_files["A"].segments
    assert seg.body[2:] == text.encode()


def test_chinese_text_is_refused_as_text() -> None:
    board = alpha.AlphaSign(BoardGeometry(64, 16))
    with pytest.raises(LocalProtocolError, match="render to pages"):
        board.encode_show("停水")
    clean, problems = alpha.sanitize_alpha_text("a停\x07")
    assert clean == "a??" and len(problems) == 2


def test_dots_packet_is_split_for_the_pause() -> None:
    board = alpha.AlphaSign(BoardGeometry(64, 16))
    frames = board.encode_show([Bitmap.blank(64, 16)])
    # E$, DOTS header (up to and including the size), DOTS rows, TEXT
    assert len(frames) == 4
    assert frames[1].endswith(b"\x02I11040")
    assert alpha.AlphaSign.chunk_gap_s == pytest.approx(0.1)


def test_ping_and_reply() -> None:
    g = BoardGeometry(64, 16)
    board = alpha.AlphaSign(g, address=3)
    sim = AlphaSimulator(g, address=3)
    p = board.reply_parser()
    p.feed(sim.feed(board.encode_ping()))
    r = p.next_reply()
    assert r is not None and r.kind is ReplyKind.DATA and r.source_address == 3
    assert p.next_reply() is None


def test_bad_checksum_and_truncation() -> None:
    (pkt,) = alpha.encode_packet("A", b"AHI")
    bad = pkt[:-2] + b"0\x04"
    dec = alpha.PacketDecoder()
    dec.feed(bad + pkt)
    with pytest.raises(RemoteProtocolError, match="checksum"):
        dec.next_packet()
    assert dec.next_packet() is not None
    dec.feed(pkt[:12])
    assert dec.next_packet() is None
    dec.feed(pkt)
    with pytest.raises(RemoteProtocolError, match="truncated"):
        dec.next_packet()
    assert dec.next_packet() is not None


def test_oversize_packet_is_capped() -> None:
    dec = alpha.PacketDecoder(max_packet_bytes=100)
    dec.feed(b"\x01Z00\x02A" + b"x" * 200)
    with pytest.raises(RemoteProtocolError, match="without EOT"):
        dec.next_packet()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_noise_never_crashes(noise: bytes) -> None:
    dec = alpha.PacketDecoder(max_packet_bytes=200)
    dec.feed(noise)
    for _ in range(50):
        try:
            pkt = dec.next_packet()
        except RemoteProtocolError:
            continue
        if pkt is None:
            break
        with contextlib.suppress(RemoteProtocolError):
            alpha.decode_command(pkt.code, pkt.data)


def test_local_errors() -> None:
    g = BoardGeometry(64, 16)
    board = alpha.AlphaSign(g)
    with pytest.raises(LocalProtocolError, match="page 0"):
        board.encode_show([Bitmap.blank(32, 16)])
    with pytest.raises(LocalProtocolError, match="at most"):
        board.encode_show([Bitmap.blank(64, 16)] * 40)
    with pytest.raises(LocalProtocolError):
        alpha.WriteSmallDots("1", Bitmap.blank(300, 16))
    with pytest.raises(LocalProtocolError):
        alpha.AlphaSign(g, address=256)
    with pytest.raises(LocalProtocolError, match="framing"):
        alpha.encode_packet("A", b"A\x04")
