"""The wire: one :class:`SerialPort` owns each port, whatever boards hang on it.

Protocols stay sans-IO (``display_driver.protocols``); this module does the I/O around
them, in the spirit of pyserial's ``serial.threaded``: the owner holds the lock, so frames
of two boards on one RS-485 bus never interleave and a reply is read by whoever asked for
it; replies go through the protocol's incremental ``ReplyParser``; losing the device is
reported to listeners as ``connection_lost(exc)`` and the port reopens itself with
exponential backoff when the adapter comes back.

Ports are opened with ``serial.serial_for_url``, so a device path (``/dev/ttyUSB0``) and
pyserial URLs (``socket://host:port``, ``loop://``) are used alike.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import serial

from .protocols.base import RemoteProtocolError, Reply, ReplyParser, SerialSettings

POLL_S = 0.02
"""Longest single blocking read; deadlines are checked between reads."""
WRITE_TIMEOUT_S = 30.0
"""A write that takes longer than this means a stuck adapter (it is treated as unplugged)."""
MAX_IGNORED_REPLIES = 64
"""Replies from other addresses or garbled replies tolerated while waiting for ours."""


class TransportError(Exception):
    """An exchange with a board failed; the message says why in an operator's words."""


class PortUnavailable(TransportError):
    """The port cannot be opened or was lost (unplugged adapter, missing device, busy)."""


class ReplyTimeout(TransportError):
    """The port works but the board did not answer in time (off, wrong address, wiring)."""


class BadReply(TransportError):
    """The board answered with a NACK."""

    def __init__(self, message: str, reply: Reply) -> None:
        super().__init__(message)
        self.reply = reply


class PortListener(Protocol):
    """Told when a port comes up and when it is lost (the driver updates board status)."""

    def connection_made(self, url: str) -> None: ...

    def connection_lost(self, url: str, exc: BaseException | None) -> None: ...


@dataclass
class Backoff:
    """Exponential backoff between reconnection attempts, reset by a success."""

    initial_s: float = 0.5
    max_s: float = 60.0
    factor: float = 2.0
    delay_s: float = 0.0
    next_attempt: float = 0.0  # monotonic time before which we do not try again

    def failed(self, now: float) -> float:
        self.delay_s = self.initial_s if self.delay_s == 0 else min(
            self.max_s, self.delay_s * self.factor)
        self.next_attempt = now + self.delay_s
        return self.delay_s

    def succeeded(self) -> None:
        self.delay_s = 0.0
        self.next_attempt = 0.0

    def ready(self, now: float) -> bool:
        return now >= self.next_attempt


Opener = Callable[..., Any]
"""``serial.serial_for_url`` or a stand-in with the same signature (tests)."""


@dataclass
class Exchange:
    """What one call to :meth:`SerialPort.exchange` did on the wire (for logs and benches)."""

    replies: list[Reply] = field(default_factory=list)
    bytes_written: int = 0
    ignored: list[str] = field(default_factory=list)  # foreign or garbled replies skipped


class SerialPort:
    """Owns one serial port; thread-safe. Several boards may share it by address."""

    def __init__(self, url: str, settings: SerialSettings, *,
                 backoff: Backoff | None = None,
                 opener: Opener = serial.serial_for_url,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = url
        self.settings = settings
        self.backoff = backoff or Backoff()
        self.listeners: list[PortListener] = []
        self.last_error: str | None = None
        self._opener = opener
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.RLock()
        self._ser: Any = None

    # -- connection ---------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._ser is not None

    def open(self) -> None:
        """Open the port now if it is closed and the backoff allows.

        Raises:
            PortUnavailable: the device is missing, busy or refused; retried later.
        """
        with self._lock:
            if self._ser is not None:
                return
            now = self._clock()
            if not self.backoff.ready(now):
                wait = self.backoff.next_attempt - now
                raise PortUnavailable(
                    f"{self.url}: unavailable ({self.last_error}); next attempt in {wait:.2f} s")
            s = self.settings
            try:
                self._ser = self._opener(
                    self.url, baudrate=s.baudrate, bytesize=s.bytesize, parity=s.parity,
                    stopbits=s.stopbits, timeout=POLL_S, write_timeout=WRITE_TIMEOUT_S,
                    exclusive=True if not self.url.startswith(("loop://", "socket://"))
                    else None)
            except (serial.SerialException, OSError, ValueError) as exc:
                self.last_error = _explain_open(self.url, exc)
                self.backoff.failed(now)
                raise PortUnavailable(self.last_error) from exc
            self.backoff.succeeded()
            self.last_error = None
        for listener in list(self.listeners):
            listener.connection_made(self.url)

    def close(self) -> None:
        """Close the port (a clean close reports ``connection_lost(None)``)."""
        self._drop(None)

    def _drop(self, exc: BaseException | None) -> None:
        with self._lock:
            ser, self._ser = self._ser, None
            if ser is None:
                return
            with contextlib.suppress(serial.SerialException, OSError):
                ser.close()
            if exc is not None:
                self.last_error = f"{self.url}: connection lost ({exc})"
                self.backoff.failed(self._clock())
        for listener in list(self.listeners):
            listener.connection_lost(self.url, exc)

    # -- I/O ----------------------------------------------------------------------------
    def exchange(self, frames: Sequence[bytes], parser: ReplyParser | None = None, *,
                 timeout_s: float = 1.0, reply_from: int | None = None,
                 gap_s: float = 0.0) -> Exchange:
        """Send ``frames`` in order, holding the port; with a ``parser``, wait for one reply
        per frame (from address ``reply_from`` if given) before sending the next.

        ``gap_s`` pauses between frames that the protocol wants apart (Alpha pictures),
        counted from the moment the previous frame has crossed the line.
        The wait for a reply starts when the frame has left: ``write`` returns as soon as
        the bytes are buffered (ptys, ``socket://`` serial servers, USB adapters with deep
        FIFOs), so the frame's wire time at the configured baud is added to ``timeout_s``.

        Raises:
            PortUnavailable: the port is missing or was lost on the way (it will reopen).
            ReplyTimeout: no (valid) reply within ``timeout_s`` of a frame.
            BadReply: the board answered with a NACK.
        """
        with self._lock:
            self.open()
            result = Exchange()
            try:
                self._discard_stale(result)
                sent_by = 0.0  # when the previous frame has surely left, at the baud rate
                for i, frame in enumerate(frames):
                    if i and gap_s:  # the pause counts from the frame's end on the wire
                        self._sleep(max(0.0, sent_by + gap_s - self._clock()))
                    started = self._clock()
                    self._ser.write(frame)
                    self._ser.flush()
                    sent_by = started + self.settings.wire_time_s(len(frame))
                    result.bytes_written += len(frame)
                    if parser is not None:
                        wire_s = self.settings.wire_time_s(len(frame))
                        reply = self._read_reply(parser, timeout_s, reply_from, result,
                                                 wire_s)
                        result.replies.append(reply)
                        if not reply.ok:
                            raise BadReply(
                                f"board {_who(reply_from)} refused the command "
                                f"({reply.command}: {reply.message or reply.error_code})", reply)
            except (serial.SerialException, OSError) as exc:
                self._drop(exc)
                raise PortUnavailable(
                    f"{self.url}: lost during an exchange ({exc}); unplugged adapter? "
                    "The port reopens by itself when the device comes back") from exc
            return result

    def _discard_stale(self, result: Exchange) -> None:
        """Drop bytes nobody is waiting for (a reply that came after its timeout)."""
        waiting = self._ser.in_waiting
        if waiting:
            stale = self._ser.read(waiting)
            result.ignored.append(f"{len(stale)} stale bytes discarded")

    def _read_reply(self, parser: ReplyParser, timeout_s: float, reply_from: int | None,
                    result: Exchange, wire_s: float = 0.0) -> Reply:
        deadline = self._clock() + wire_s + timeout_s
        while True:
            try:
                reply = parser.next_reply()
            except RemoteProtocolError as exc:
                # Drain what is buffered before reading again: noise must not cost a read
                # timeout per bad frame, or a babbling line would hide the real answer.
                result.ignored.append(f"garbled reply: {exc}")
                self._check_ignored(result, reply_from)
                continue
            if reply is not None:
                if reply_from is None or reply.source_address in (None, reply_from):
                    return reply
                result.ignored.append(f"reply from address {reply.source_address}")
                self._check_ignored(result, reply_from)
                continue
            if self._clock() >= deadline:
                why = f"; ignored: {result.ignored[-1]}" if result.ignored else ""
                raise ReplyTimeout(f"board {_who(reply_from)} on {self.url} did not answer "
                                   f"within {timeout_s:g} s{why}")
            chunk = self._ser.read(max(1, self._ser.in_waiting))
            if chunk:
                parser.feed(chunk)


    def _check_ignored(self, result: Exchange, reply_from: int | None) -> None:
        if len(result.ignored) > MAX_IGNORED_REPLIES:
            raise ReplyTimeout(f"board {_who(reply_from)} on {self.url}: only garbled or "
                               f"foreign replies ({result.ignored[-1]})")


def exchange_budget_s(settings: SerialSettings, frame_sizes: Sequence[int], *,
                      timeout_s: float | None, gap_s: float = 0.0) -> float:
    """The longest :meth:`SerialPort.exchange` may legitimately block on these frames.

    One write may hit ``WRITE_TIMEOUT_S`` (a stuck adapter: the exchange ends there); each
    frame costs its wire time twice (written and drained, then again in the reply
    deadline), its gap and, when a reply is awaited (``timeout_s``), the reply timeout and
    one more read. The driver's liveness check (display_driver.liveness) allows this.
    """
    total = WRITE_TIMEOUT_S
    for n in frame_sizes:
        total += 2 * settings.wire_time_s(n) + gap_s
        if timeout_s is not None:
            total += timeout_s + POLL_S
    return total


def _who(address: int | None) -> str:
    return "?" if address is None else f"at address {address}"


def _explain_open(url: str, exc: BaseException) -> str:
    msg = str(exc)
    if "No such file" in msg or "Errno 2" in msg:
        return (f"{url}: no such device (adapter unplugged, or wrong port in the config; "
                "see `ls /dev/serial/by-id/`)")
    if "Permission denied" in msg or "Errno 13" in msg:
        return (f"{url}: permission denied (add the juwu user to the 'dialout' group: "
                "sudo adduser juwu dialout, then log in again)")
    if "Connection refused" in msg or "Errno 111" in msg:
        return (f"{url}: connection refused (serial server off, or wrong host:port in the "
                "config)")
    if "Resource temporarily unavailable" in msg or "Errno 11" in msg:
        return f"{url}: port busy (another program, or another juwu process, has it open)"
    return f"{url}: cannot open ({msg})"


class PortRegistry:
    """One :class:`SerialPort` per URL, so boards on one RS-485 bus share their owner."""

    def __init__(self, factory: Callable[[str, SerialSettings], SerialPort] | None = None
                 ) -> None:
        self._factory = factory or (lambda url, s: SerialPort(url, s))
        self._ports: dict[str, SerialPort] = {}

    def get(self, url: str, settings: SerialSettings) -> SerialPort:
        """The owner of ``url``.

        Raises:
            ValueError: another board already uses that port with other line settings.
        """
        port = self._ports.get(url)
        if port is None:
            port = self._ports[url] = self._factory(url, settings)
        elif port.settings != settings:
            raise ValueError(f"{url}: boards on one port need the same serial settings "
                             f"({port.settings} vs {settings})")
        return port

    def ports(self) -> list[SerialPort]:
        return list(self._ports.values())

    def close_all(self) -> None:
        for p in self._ports.values():
            p.close()
