"""What every board protocol offers the driver, so that boards are handled alike.

Sans-IO (like h11): encoders turn frozen dataclasses into bytes, parsers turn bytes into
frozen dataclasses, incomplete input is ``None``, never a block. Nothing here touches a
port, a clock or a thread; the transport owns the wire.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol

from ..bitmap import Bitmap


class ProtocolError(Exception):
    """Base of every protocol failure."""


class LocalProtocolError(ProtocolError):
    """We asked for something the protocol cannot express (our bug or bad content)."""


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes that are not a valid message (noise, truncation, bad CRC)."""


class ReplyKind(enum.Enum):
    ACK = "ack"
    NACK = "nack"
    DATA = "data"  # a reply carrying data (status, read-back) rather than a bare verdict


@dataclass(frozen=True)
class Reply:
    """A parsed answer from a board, protocol-neutral so the driver can judge it."""

    kind: ReplyKind
    command: str = ""  # protocol-specific name of what was answered, e.g. "A0 00"
    error_code: int = 0
    message: str = ""  # human-readable explanation of ``error_code``
    source_address: int | None = None
    payload: bytes = b""

    @property
    def ok(self) -> bool:
        return self.kind is not ReplyKind.NACK


class ReplyParser(Protocol):
    """Incremental parser: feed what the port gave, then drain complete replies."""

    def feed(self, data: bytes) -> None: ...

    def next_reply(self) -> Reply | None:
        """The next complete reply, ``None`` if more bytes are needed.

        Raises RemoteProtocolError for a malformed reply; the bad bytes are dropped first,
        so the caller may log and call again.
        """
        ...


class DisplayMode(enum.Enum):
    """Transitions every supported board can do; each protocol maps them to its codes."""

    STATIC = "static"
    SCROLL_LEFT = "scroll_left"
    SCROLL_UP = "scroll_up"


Parity = Literal["N", "E", "O"]


@dataclass(frozen=True)
class SerialSettings:
    """Line settings; defaults come from the protocol, operators may override in config."""

    baudrate: int = 9600
    bytesize: Literal[7, 8] = 8
    parity: Parity = "N"
    stopbits: Literal[1, 2] = 1

    @property
    def bits_per_byte(self) -> int:
        """Start bit + data + parity + stop bits: what one byte costs on the wire."""
        return 1 + self.bytesize + (0 if self.parity == "N" else 1) + self.stopbits

    def wire_time_s(self, nbytes: int) -> float:
        return nbytes * self.bits_per_byte / self.baudrate


@dataclass(frozen=True)
class ShowOptions:
    """How a board should present what we send."""

    mode: DisplayMode = DisplayMode.STATIC
    stay_s: float = 5.0  # how long each page stays before the next
    speed: int = 1  # 0 = fastest; boards clamp to their own range

    def __post_init__(self) -> None:
        if not (0 <= self.stay_s <= 600):
            raise LocalProtocolError(f"stay_s {self.stay_s} outside 0..600")
        if not (0 <= self.speed <= 24):
            raise LocalProtocolError(f"speed {self.speed} outside 0..24")


@dataclass(frozen=True)
class BoardGeometry:
    width: int
    height: int
    x: int = 0
    y: int = 0

    def __post_init__(self) -> None:
        if not (0 < self.width <= 4096 and 0 < self.height <= 4096):
            raise LocalProtocolError(f"board size {self.width}x{self.height} out of range")
        if self.x < 0 or self.y < 0:
            raise LocalProtocolError("negative board offset")


class BoardProtocol(ABC):
    """One board family. A new board type is a subclass in one small module plus an entry
    in ``display_driver.protocols.PROTOCOLS``."""

    name: ClassVar[str]
    accepts: ClassVar[Literal["bitmap", "text"]]
    """'bitmap': we render pages and send pixels; 'text': the board renders with its fonts."""
    default_serial: ClassVar[SerialSettings] = SerialSettings()
    replies_to_show: ClassVar[bool] = True
    """Whether a correctly received show command is answered (Alpha signs stay silent)."""

    geometry: BoardGeometry
    address: int

    @abstractmethod
    def encode_show(
        self, content: Sequence[Bitmap] | str, options: ShowOptions | None = None
    ) -> list[bytes]:
        """Frames that make the board show ``content`` (pages, or text for text boards).

        Raises LocalProtocolError if the content cannot be expressed (too big, wrong size,
        characters the board cannot show).
        """

    @abstractmethod
    def encode_clear(self) -> list[bytes]:
        """Frames that blank what we put on the board."""

    @abstractmethod
    def encode_ping(self) -> bytes:
        """A request any live board answers; used to tell live boards from dead ones."""

    @abstractmethod
    def reply_parser(self) -> ReplyParser:
        """A fresh parser for what this board sends back."""


@dataclass(frozen=True)
class TextProblem:
    """A character that cannot be sent as-is, and what we did about it."""

    index: int
    char: str
    reason: str
    replacement: str = field(default="")
