"""Board protocols, sans-IO. Registry: protocol name -> class (see ``base.BoardProtocol``)."""

from __future__ import annotations

from typing import Final

from .alpha import AlphaSign
from .base import (
    BoardGeometry,
    BoardProtocol,
    DisplayMode,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    Reply,
    ReplyKind,
    ReplyParser,
    SerialSettings,
    ShowOptions,
    TextProblem,
)
from .onbon import OnbonFontCard, OnbonGraphic

PROTOCOLS: Final[dict[str, type[BoardProtocol]]] = {
    OnbonGraphic.name: OnbonGraphic,
    OnbonFontCard.name: OnbonFontCard,
    AlphaSign.name: AlphaSign,
}

__all__ = [
    "PROTOCOLS",
    "AlphaSign",
    "BoardGeometry",
    "BoardProtocol",
    "DisplayMode",
    "LocalProtocolError",
    "OnbonFontCard",
    "OnbonGraphic",
    "ProtocolError",
    "RemoteProtocolError",
    "Reply",
    "ReplyKind",
    "ReplyParser",
    "SerialSettings",
    "ShowOptions",
    "TextProblem",
]
