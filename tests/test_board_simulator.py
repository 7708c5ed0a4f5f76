"""The simulator end to end: render -> encode -> simulator -> PNG, faults, registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from display_driver.protocols import PROTOCOLS, BoardGeometry, ReplyKind, ShowOptions
from display_driver.protocols.base import RemoteProtocolError
from display_driver.render import default_renderer
from display_driver.simulator import Faults, make_simulator, render_face, save_png, snapshot

TEXT = "居务公开：五月一日停水，请提前储水。"


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_each_protocol_shows_what_was_rendered(name: str, tmp_path: Path) -> None:
    g = BoardGeometry(128, 32)
    board = PROTOCOLS[name](g, address=1)  # type: ignore[call-arg]
    sim = make_simulator(name, 128, 32, address=1)
    rendered = default_renderer().render(TEXT, 128, 32)
    content = TEXT if board.accepts == "text" else rendered.pages
    replies = b"".join(sim.feed(f) for f in board.encode_show(content, ShowOptions()))
    assert sim.errors == []
    assert sim.pages == rendered.pages  # font-card simulator renders with the same font
    if board.replies_to_show:
        p = board.reply_parser()
        p.feed(replies)
        r = p.next_reply()
        assert r is not None and r.kind is ReplyKind.ACK
    out = save_png(sim, tmp_path / f"{name}.png", scale=4)
    img = Image.open(out)
    assert img.size == (512, 128)
    assert img.getextrema()[0][1] > 200  # some LED is lit red


def test_clear_blanks_the_board() -> None:
    g = BoardGeometry(64, 16)
    for name, cls in PROTOCOLS.items():
        board = cls(g, address=1)  # type: ignore[call-arg]
        sim = make_simulator(name, 64, 16, address=1)
        content = "停水" if board.accepts == "text" else default_renderer().render(
            "停水", 64, 16).pages
        for f in board.encode_show(content):
            sim.feed(f)
        for f in board.encode_clear():
            sim.feed(f)
        assert all(p.ink() == 0 for p in sim.pages), name


def test_faults_nack_drop_corrupt() -> None:
    g = BoardGeometry(64, 16)
    board = PROTOCOLS["onbon-bx5e"](g, address=1)  # type: ignore[call-arg]
    sim = make_simulator("onbon-bx5e", 64, 16, faults=Faults(nack_error=3))
    p = board.reply_parser()
    p.feed(sim.feed(board.encode_ping()))
    r = p.next_reply()
    assert r is not None and r.kind is ReplyKind.NACK and "busy" in r.message
    sim.faults = Faults(drop_replies=True)
    assert sim.feed(board.encode_ping()) == b""
    sim.faults = Faults(corrupt_reply_crc=True)
    p.feed(sim.feed(board.encode_ping()))
    with pytest.raises(RemoteProtocolError, match="CRC"):
        p.next_reply()


def test_led_look_and_plain_face() -> None:
    bmp = default_renderer().render("中", 16, 16).pages[0]
    led = render_face(bmp, 16, 16, scale=6, led_look=True)
    flat = render_face(bmp, 16, 16, scale=6, led_look=False)
    assert led.size == flat.size == (96, 96)
    assert led.tobytes() != flat.tobytes()


def test_blank_board_snapshot() -> None:
    sim = make_simulator("alpha", 64, 16, address=0)
    img = snapshot(sim, scale=2)
    assert img.size == (128, 32)


def test_unknown_protocol() -> None:
    with pytest.raises(ValueError, match="no simulator"):
        make_simulator("nope", 64, 16)
