"""`juwu doctor` checks for the boards: the pixel font, and each board's port and reply."""

from __future__ import annotations

import time
from dataclasses import dataclass

from content.config import BoardConfig, Config
from content.doctor import Check

from .driver import Board
from .protocols import LocalProtocolError, Reply
from .render import FontNotFoundError, Renderer, find_unifont
from .transport import SerialPort, TransportError


@dataclass(frozen=True)
class Pong:
    reply: Reply
    ms: float


def ping_board(cfg: BoardConfig) -> Pong:
    """Open the board's port, send the protocol's ping, wait for the reply.

    Raises:
        TransportError: no port, port busy or denied, or no valid reply in time.
        LocalProtocolError, FontNotFoundError, ValueError: the board's configuration is wrong.
    """
    board = Board(cfg)
    port = SerialPort(cfg.port, board.serial)
    started = time.monotonic()
    try:
        ex = port.exchange([board.protocol.encode_ping()], board.protocol.reply_parser(),
                           timeout_s=cfg.timeout_s, reply_from=board.reply_from)
    finally:
        port.close()
    return Pong(ex.replies[0], (time.monotonic() - started) * 1000)


def checks(config: Config) -> list[Check]:
    out: list[Check] = []
    try:
        font = find_unifont()
        renderer = Renderer(font)
        # Simplified forms must come out as glyphs, not the font's "missing" box.
        missing = [c for c in "财务公开党务" if renderer.char_problem(c) is not None]
        out.append(Check("board font", not missing,
                         f"{font} draws Simplified Chinese" if not missing
                         else f"cannot draw {''.join(missing)}",
                         "" if not missing else "apt-get install fonts-unifont"))
    except FontNotFoundError as e:
        out.append(Check("board font", False, str(e), "apt-get install fonts-unifont"))
    if not config.boards:
        out.append(Check("boards", None, "no [[boards]] configured",
                         "add [[boards]] tables (docs/boards.md) if this box drives boards"))
    for cfg in config.boards:
        name = f"board {cfg.name}"
        try:
            pong = ping_board(cfg)
        except (TransportError, LocalProtocolError, FontNotFoundError, ValueError) as e:
            out.append(Check(name, False, f"{cfg.port}: {e}",
                             "check the cable, power and address; if `juwu board run` is "
                             "running it owns the port: see `juwu board status`"))
            continue
        out.append(Check(name, pong.reply.ok, f"{cfg.port}: {pong.reply.kind.value} in "
                                             f"{pong.ms:.0f} ms"))
    return out
