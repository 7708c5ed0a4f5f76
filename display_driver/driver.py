"""``juwu board run``: keeps every configured board showing what the schedule says.

One worker per port (boards on one RS-485 bus share it, boards on separate ports run in
parallel, so a dead board never delays another port). Each tick a worker reads the cache in
a fresh session, asks :func:`content.schedule.decide` what each of its boards must show,
and sends only when that changed or a refresh is due. Replies are verified; a board that
fails ``fault_after`` times in a row is marked faulted in ``board_status`` and retried with
backoff. The display log gets one row per stretch a board confirmably showed one item.

Nothing is sent twice without need: a board's confirmed frames and brightness are kept,
so a rotation turn back to an item whose frames equal what the board already shows, or
the start of dimmed quiet hours (only the brightness changes), costs no resend of pixels;
rendered frames are cached per text, so rotating items are not re-rendered either. A lost
connection forgets what the boards on that port show, since they may have lost power too.

The clock (community-local naive time) and the sleep are injected, so tests run a
simulated day in milliseconds; a real run sleeps on an Event that SIGINT/SIGTERM set.
Each worker beats a heartbeat as its loop moves on; :meth:`Driver.stuck` is the check
behind systemd's watchdog (display_driver.liveness).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from content.config import BoardConfig, Config, DriverConfig
from content.db import Cache, unit_of_work
from content.errors import CacheError
from content.models import Announcement, BoardState, BoardStatus, Community, DisplayLogEntry
from content.schedule import ScheduledItem, decide

from .liveness import TURN_BUDGET_S, Heartbeat, describe_port, stuck
from .protocols import (
    PROTOCOLS,
    AlphaSign,
    BoardGeometry,
    BoardProtocol,
    LocalProtocolError,
    OnbonFontCard,
    OnbonGraphic,
    SerialSettings,
    ShowOptions,
    TextProblem,
)
from .protocols.alpha import DOTS_PIXELS
from .protocols.onbon import (
    FONT_CARD_DEVICE_TYPES,
    GEN5_DEVICE_TYPES,
    Gen5Colour,
    sanitize_font_card_text,
)
from .render import Renderer, default_renderer
from .simulator import make_simulator, pages_png
from .transport import (
    Backoff,
    PortRegistry,
    PortUnavailable,
    SerialPort,
    TransportError,
    exchange_budget_s,
)

if TYPE_CHECKING:  # imported by the caller that wants it: TUF is heavy for `board preview`
    from content.sync.periodic import PeriodicSync

log = logging.getLogger("juwu.board")

FULL_BRIGHTNESS: Final = 15
MIN_SLEEP_S: Final = 0.01
FRAME_CACHE_SIZE: Final = 16
"""Rendered texts kept per board: enough for every item a board rotates through."""

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], object]


# --------------------------------------------------------------------------------------
# Boards: configuration -> protocol object, line settings, what to send
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Content:
    """What a board should show. ``uid`` empty means blank (quiet hours)."""

    uid: str
    text: str
    dim: bool = False

    @property
    def blank(self) -> bool:
        return not self.uid

    def same_item(self, other: Content | None) -> bool:
        return other is not None and (self.uid, self.text) == (other.uid, other.text)


BLANK: Final = Content("", "")


def device_type(cfg: BoardConfig) -> int | None:
    """The Onbon device type the board's ``device_type`` names (None: the wildcard).

    Raises:
        ValueError: not a model of that card family, nor a number that fits its header.
    """
    raw = cfg.device_type.strip()
    if not raw:
        return None
    families = {OnbonGraphic.name: (GEN5_DEVICE_TYPES, 0xFFFF),
                OnbonFontCard.name: (FONT_CARD_DEVICE_TYPES, 0xFF)}
    if cfg.protocol not in families:
        raise ValueError(f"board {cfg.name}: device_type applies to Onbon boards only")
    models, largest = families[cfg.protocol]
    by_name = {k.upper(): v for k, v in models.items()}
    if raw.upper() in by_name:
        return by_name[raw.upper()]
    try:
        code = int(raw, 0)
    except ValueError:
        code = -1
    if not 0 <= code <= largest:
        raise ValueError(f"board {cfg.name}: device_type {raw!r} is neither a {cfg.protocol} "
                         f"model ({', '.join(models)}) nor a code up to {largest:#x}")
    return code


def make_protocol(cfg: BoardConfig) -> BoardProtocol:
    """The sans-IO protocol object for a configured board.

    Raises:
        ValueError: a key the protocol cannot use (unknown protocol, bad device_type).
    """
    g = BoardGeometry(cfg.width, cfg.height)
    dev = device_type(cfg)
    if cfg.protocol == OnbonGraphic.name:
        colour = Gen5Colour.MONO if cfg.colour in ("mono", "amber") else Gen5Colour(cfg.colour)
        if dev is None:
            return OnbonGraphic(g, cfg.address, colour=colour)
        return OnbonGraphic(g, cfg.address, device_type=dev, colour=colour)
    if cfg.protocol == OnbonFontCard.name:
        if dev is None:
            return OnbonFontCard(g, cfg.address)
        return OnbonFontCard(g, cfg.address, device_type=dev)
    if cfg.protocol == AlphaSign.name:
        pixel = {"green": "green", "amber": "amber", "yellow": "amber"}.get(cfg.colour, "red")
        return AlphaSign(g, cfg.address, on_pixel=DOTS_PIXELS[pixel])
    raise ValueError(f"no protocol {cfg.protocol!r} (known: {', '.join(sorted(PROTOCOLS))})")


def serial_settings(cfg: BoardConfig, protocol: BoardProtocol) -> SerialSettings:
    """The protocol's line settings with the board's overrides."""
    s = protocol.default_serial
    return SerialSettings(
        cfg.baudrate if cfg.baudrate is not None else s.baudrate,
        cfg.bytesize if cfg.bytesize is not None else s.bytesize,
        cfg.parity if cfg.parity is not None else s.parity,
        cfg.stopbits if cfg.stopbits is not None else s.stopbits,
    )


class Board:
    """A configured board and how to turn :class:`Content` into its frames."""

    def __init__(self, cfg: BoardConfig, renderer: Renderer | None = None) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.protocol = make_protocol(cfg)
        self.serial = serial_settings(cfg, self.protocol)
        # A configured font that cannot be loaded is a configuration error: fail at start.
        self._renderer = renderer or (Renderer(cfg.font) if cfg.font else None)
        self._frames: OrderedDict[str | None, tuple[list[bytes], tuple[TextProblem, ...]]] = (
            OrderedDict())

    @property
    def renderer(self) -> Renderer:
        if self._renderer is None:
            self._renderer = Renderer(self.cfg.font) if self.cfg.font else default_renderer()
        return self._renderer

    @property
    def can_dim(self) -> bool:
        return isinstance(self.protocol, OnbonGraphic)

    @property
    def reply_from(self) -> int | None:
        if isinstance(self.protocol, AlphaSign) and self.cfg.address == 0:
            return None  # broadcast: whichever sign answers
        return self.cfg.address

    def prepare(self, text: str) -> tuple[list[bytes], tuple[TextProblem, ...]]:
        """Frames that show ``text`` exactly as the preview does, and what was replaced.

        Raises:
            LocalProtocolError: the board cannot take it (too many pages, too large).
        """
        opts = ShowOptions(stay_s=self.cfg.page_s)
        if self.protocol.accepts == "text":
            clean, problems = sanitize_font_card_text(text)
            return self.protocol.encode_show(clean, opts), problems
        result = self.renderer.render(text, self.cfg.width, self.cfg.height, align="center")
        return self.protocol.encode_show(result.pages, opts), result.problems

    def content_frames(self, content: Content) -> tuple[list[bytes], tuple[TextProblem, ...]]:
        """The frames that put ``content`` on the board (brightness apart), cached per text
        so that items taking turns are rendered once.

        Raises:
            LocalProtocolError: the board cannot take it.
        """
        key = None if content.blank else content.text
        hit = self._frames.get(key)
        if hit is not None:
            self._frames.move_to_end(key)
            return hit
        if content.blank:
            made: tuple[list[bytes], tuple[TextProblem, ...]] = (self.protocol.encode_clear(), ())
        else:
            made = self.prepare(content.text)
        self._frames[key] = made
        if len(self._frames) > FRAME_CACHE_SIZE:
            self._frames.popitem(last=False)
        return made

    def preview(self, frames: Sequence[bytes]) -> tuple[bytes, int]:
        """What `frames` put on this board, decoded by its simulator (so exactly what the
        board was sent): a PNG of the pages, and how many there are."""
        sim = make_simulator(self.cfg.protocol, self.cfg.width, self.cfg.height,
                             self.cfg.address)
        for frame in frames:
            sim.feed(frame)
        return pages_png(sim), len(sim.pages)

    def brightness_for(self, content: Content) -> int | None:
        """The brightness ``content`` needs, or None where brightness is not ours to set."""
        if not (self.can_dim and self.cfg.quiet_mode == "dim"):
            return None
        return self.cfg.dim_brightness if content.dim else FULL_BRIGHTNESS

    def brightness_frame(self, level: int) -> bytes:
        assert isinstance(self.protocol, OnbonGraphic)
        return self.protocol.encode_brightness(level)

    def frames_for(self, content: Content) -> tuple[list[bytes], tuple[TextProblem, ...]]:
        """Everything that shows ``content`` from scratch: brightness first, then pixels."""
        frames, problems = self.content_frames(content)
        level = self.brightness_for(content)
        if level is not None:
            frames = [self.brightness_frame(level), *frames]
        return frames, problems

    def send(self, port: SerialPort, frames: Sequence[bytes]) -> None:
        """Send and verify. Boards that do not answer writes (Alpha) are pinged after.

        Raises:
            TransportError: the port is gone, the board is silent or refused.
        """
        p = self.protocol
        timeout = self.cfg.timeout_s
        if p.replies_to_show:
            port.exchange(frames, p.reply_parser(), timeout_s=timeout,
                          reply_from=self.reply_from)
            return
        gap = getattr(p, "chunk_gap_s", 0.0)
        port.exchange(frames, None, gap_s=gap)
        self.ping(port)

    def send_budget_s(self, frames: Sequence[bytes]) -> float:
        """The longest one :meth:`send` of ``frames`` may legitimately block (liveness)."""
        p = self.protocol
        sizes = [len(f) for f in frames]
        if p.replies_to_show:
            return exchange_budget_s(self.serial, sizes, timeout_s=self.cfg.timeout_s)
        gap = getattr(p, "chunk_gap_s", 0.0)
        return (exchange_budget_s(self.serial, sizes, timeout_s=None, gap_s=gap)
                + exchange_budget_s(self.serial, [len(p.encode_ping())],
                                    timeout_s=self.cfg.timeout_s))

    def ping(self, port: SerialPort) -> None:
        """Raises TransportError unless the board answers its status request."""
        port.exchange([self.protocol.encode_ping()], self.protocol.reply_parser(),
                      timeout_s=self.cfg.timeout_s, reply_from=self.reply_from)


def next_quiet_boundary(cfg: BoardConfig, now: dt.datetime) -> dt.datetime | None:
    window = cfg.quiet_window()
    if window is None:
        return None
    candidates = []
    for t in window:
        at = dt.datetime.combine(now.date(), t)
        candidates.append(at if at > now else at + dt.timedelta(days=1))
    return min(candidates)


# --------------------------------------------------------------------------------------
# The cache side (services take a Session)
# --------------------------------------------------------------------------------------
def load_items(session: Session, now: dt.datetime) -> list[ScheduledItem]:
    """Snapshots of the announcements that are not over yet."""
    stmt = select(Announcement).where(
        (Announcement.valid_until.is_(None)) | (Announcement.valid_until > now))
    return [ScheduledItem.from_announcement(a) for a in session.scalars(stmt)]


def community_name(session: Session, config: Config) -> str:
    row = session.scalars(select(Community)).first()
    return row.name if row is not None else config.community.name


def _status_row(session: Session, board: str, now: dt.datetime) -> BoardStatus:
    row = session.get(BoardStatus, board)
    if row is None:
        row = BoardStatus(board=board, state=BoardState.UNKNOWN, consecutive_failures=0,
                          updated_at=now)
        session.add(row)
    return row


def close_stale_log_rows(session: Session, boards: Sequence[str]) -> int:
    """Rows left open by a driver that died: they end at the board's last confirmation."""
    n = 0
    for name in boards:
        status = session.get(BoardStatus, name)
        rows = session.scalars(select(DisplayLogEntry).where(
            DisplayLogEntry.board == name, DisplayLogEntry.shown_to.is_(None)))
        for row in rows:
            last = status.last_ok_at if status and status.last_ok_at else row.shown_from
            row.shown_to = max(row.shown_from, last)
            n += 1
    return n


# --------------------------------------------------------------------------------------
# Workers
# --------------------------------------------------------------------------------------
@dataclass
class BoardRuntime:
    """What the driver knows about one board between ticks."""

    shown: Content | None = None  # last content the board confirmed
    frames: tuple[bytes, ...] | None = None  # the frames that put it there (None: unknown)
    brightness: int | None = None  # the level the board confirmed (None: unknown)
    sent_at: dt.datetime | None = None  # when its content frames last went out
    retry_at: dt.datetime | None = None
    retry_delay_s: float = 0.0
    failed_want: Content | None = None
    failures: int = 0
    state: BoardState = BoardState.UNKNOWN
    last_ok_at: dt.datetime | None = None
    last_error: str | None = None
    log_id: int | None = None
    reported: set[str] = field(default_factory=set)  # problems already logged


@dataclass(frozen=True)
class DriverSettings:
    """Limits of the driver loop, in one place (units in the names); the ``[driver]``
    section of the configuration (content.config.DriverConfig) in a run."""

    poll_s: float = 30.0  # re-read the cache at least this often (synced changes)
    fault_after: int = 3  # consecutive failed attempts before a board is faulted
    attempts_per_update: int = 2
    retry_initial_s: float = 5.0
    retry_max_s: float = 300.0
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 60.0

    def __post_init__(self) -> None:
        checks = {"poll_s": self.poll_s > 0, "fault_after": self.fault_after >= 1,
                  "attempts_per_update": self.attempts_per_update >= 1,
                  "retry_initial_s": self.retry_initial_s >= 0,
                  "retry_max_s": self.retry_max_s >= self.retry_initial_s,
                  "reconnect_initial_s": self.reconnect_initial_s >= 0,
                  "reconnect_max_s": self.reconnect_max_s >= self.reconnect_initial_s}
        for key, ok in checks.items():
            if not ok:
                raise ValueError(f"[driver] {key} = {getattr(self, key)!r} is out of range "
                                 "(counts >= 1, pauses >= 0, each max >= its initial)")

    @classmethod
    def from_config(cls, c: DriverConfig) -> DriverSettings:
        return cls(**dataclasses.asdict(c))


class PortWorker:
    """Drives the boards of one port, one tick at a time (``step``)."""

    def __init__(self, driver: Driver, port: SerialPort, boards: Sequence[Board]) -> None:
        self.driver = driver
        self.port = port
        self.boards = list(boards)
        self.runtime = {b.name: BoardRuntime() for b in boards}
        self._items: list[ScheduledItem] = []
        self._community = driver.config.community.name
        self.heartbeat = Heartbeat(describe_port(port.url, [b.name for b in boards]),
                                   driver.monotonic)
        port.listeners.append(self)

    # PortListener
    def connection_made(self, url: str) -> None:
        log.info("%s: port open", url)

    def connection_lost(self, url: str, exc: BaseException | None) -> None:
        if exc is not None:
            log.warning("%s: connection lost (%s); reconnecting with backoff", url, exc)
            for rt in self.runtime.values():  # the boards may have lost power with it
                rt.frames = rt.brightness = None

    def step(self, now: dt.datetime) -> dt.datetime:
        """Bring every board of this port up to date; returns when to step again."""
        d = self.driver
        self.heartbeat.beat(TURN_BUDGET_S, "reading the cache")
        try:
            with unit_of_work(d.cache) as s:
                self._items = load_items(s, now)
                self._community = community_name(s, d.config)
        except CacheError as e:  # keep showing what we had; the cache may come back
            log.error("cannot read the cache: %s", e)
        wake = now + dt.timedelta(seconds=d.settings.poll_s)
        for board in self.boards:
            try:
                wake = min(wake, self._step_board(board, now))
            except CacheError as e:
                log.error("%s: cannot write status/log: %s", board.name, e)
        return wake

    def _want(self, board: Board, now: dt.datetime) -> tuple[Content, dt.datetime]:
        rt = self.runtime[board.name]
        dec = decide(self._items, board.name, now, community_name=self._community,
                     rotate_s=board.cfg.rotate_s)
        for uid, why in dec.skipped:
            if f"skip:{uid}" not in rt.reported:
                rt.reported.add(f"skip:{uid}")
                log.warning("%s: announcement %s not scheduled: %s", board.name, uid, why)
        until = dec.until
        boundary = next_quiet_boundary(board.cfg, now)
        if boundary is not None:
            until = min(until, boundary)
        quiet = board.cfg.is_quiet(now) and not dec.showing.emergency
        if quiet and (board.cfg.quiet_mode == "blank" or not board.can_dim):
            return BLANK, until
        return Content(dec.showing.uid, dec.showing.text, dim=quiet), until

    def _step_board(self, board: Board, now: dt.datetime) -> dt.datetime:
        rt = self.runtime[board.name]
        self.heartbeat.beat(TURN_BUDGET_S, f"updating {board.name}")
        want, until = self._want(board, now)
        refresh = dt.timedelta(seconds=board.cfg.refresh_s)
        due = rt.sent_at is None or now >= rt.sent_at + refresh
        if want == rt.shown and not due:
            assert rt.sent_at is not None
            return min(until, rt.sent_at + refresh)
        if rt.retry_at is not None and now < rt.retry_at and want == rt.failed_want:
            return min(until, rt.retry_at)
        try:
            frames, problems = board.content_frames(want)
        except LocalProtocolError as e:  # bad content, not a bad board: wait for a change
            rt.last_error = f"cannot show {want.uid}: {e}"
            log.error("%s: %s", board.name, rt.last_error)
            rt.failed_want, rt.retry_at = want, until
            self._write_status(board, now)
            return until
        for p in problems:
            key = f"char:{want.uid}:{p.char}"
            if key not in rt.reported:
                rt.reported.add(key)
                log.warning("%s: %s shows %r as %r (%s)", board.name, want.uid or "blank",
                            p.char, p.replacement, p.reason)
        level = board.brightness_for(want)
        send_pixels = due or rt.frames != tuple(frames)
        wire = [board.brightness_frame(level)] if level is not None and (
            due or level != rt.brightness) else []
        if send_pixels:
            wire += frames
        error = self._send(board, wire) if wire else None
        if error is None:
            if send_pixels:
                rt.frames, rt.sent_at = tuple(frames), now
            if wire:
                rt.brightness, rt.last_ok_at = level, now
            else:
                log.debug("%s: %s looks the same as what is shown; not resent", board.name,
                          want.uid or "blank")
            self._succeeded(board, want, now, frames)
            assert rt.sent_at is not None
            return min(until, rt.sent_at + refresh)
        self._failed(board, want, now, error)
        assert rt.retry_at is not None
        return min(until, rt.retry_at)

    def _send(self, board: Board, frames: Sequence[bytes]) -> str | None:
        error = "not sent"
        attempts = self.driver.settings.attempts_per_update
        self.heartbeat.beat(TURN_BUDGET_S + attempts * board.send_budget_s(frames),
                            f"sending to {board.name}")
        for _ in range(attempts):
            try:
                board.send(self.port, frames)
                return None
            except PortUnavailable as e:
                self.runtime[board.name].failures += 1
                return str(e)  # retrying at once cannot help; the port backs off
            except TransportError as e:
                self.runtime[board.name].failures += 1
                error = str(e)
        return error

    def _succeeded(self, board: Board, want: Content, now: dt.datetime,
                   frames: Sequence[bytes]) -> None:
        rt = self.runtime[board.name]
        if rt.state is not BoardState.OK:
            log.info("%s: ok", board.name)
        changed = not want.same_item(rt.shown)
        rt.shown = want
        rt.failures, rt.retry_at, rt.retry_delay_s, rt.failed_want = 0, None, 0.0, None
        rt.state, rt.last_error = BoardState.OK, None
        with unit_of_work(self.driver.cache) as s:
            if changed:
                self._close_log(s, rt, now)
                if not want.blank:
                    row = DisplayLogEntry(board=board.name, item_uid=want.uid,
                                          text=want.text[:500], shown_from=now)
                    s.add(row)
                    s.flush()
                    rt.log_id = row.id
                log.info("%s: showing %s", board.name, want.uid or "nothing (quiet hours)")
            self._status(s, board, now)
            if changed:
                self._preview(s, board, frames)

    def _preview(self, s: Session, board: Board, frames: Sequence[bytes]) -> None:
        row = s.get(BoardStatus, board.name)
        if row is None:
            return
        try:
            row.preview_png, row.preview_pages = board.preview(frames)
        except Exception as e:  # a preview must never stop the boards: no picture instead
            log.warning("%s: no preview for the admin screen: %s", board.name, e)
            row.preview_png, row.preview_pages = None, 0

    def _failed(self, board: Board, want: Content, now: dt.datetime, error: str) -> None:
        rt = self.runtime[board.name]
        st = self.driver.settings
        rt.retry_delay_s = (st.retry_initial_s if rt.retry_delay_s == 0
                            else min(st.retry_max_s, rt.retry_delay_s * 2))
        rt.retry_at = now + dt.timedelta(seconds=rt.retry_delay_s)
        rt.failed_want, rt.last_error = want, error
        log.warning("%s: %s (failure %d)", board.name, error, rt.failures)
        with unit_of_work(self.driver.cache) as s:
            if rt.failures >= st.fault_after and rt.state is not BoardState.FAULTED:
                rt.state = BoardState.FAULTED
                log.error("%s: faulted after %d failures: %s", board.name, rt.failures, error)
                # We can no longer vouch for what it shows: the stretch ends at the last
                # confirmation, and whatever comes next is resent once it answers.
                self._close_log(s, rt, rt.last_ok_at or now)
                rt.shown = rt.frames = rt.brightness = None
            self._status(s, board, now)

    def _close_log(self, s: Session, rt: BoardRuntime, at: dt.datetime) -> None:
        if rt.log_id is None:
            return
        row = s.get(DisplayLogEntry, rt.log_id)
        if row is not None and row.shown_to is None:
            row.shown_to = max(at, row.shown_from)
        rt.log_id = None

    def _status(self, s: Session, board: Board, now: dt.datetime) -> None:
        rt = self.runtime[board.name]
        row = _status_row(s, board.name, now)
        row.state = rt.state
        row.consecutive_failures = rt.failures
        row.last_error = rt.last_error
        row.showing_uid = None if rt.shown is None or rt.shown.blank else rt.shown.uid
        if rt.last_ok_at is not None:
            row.last_ok_at = rt.last_ok_at
        row.updated_at = now

    def _write_status(self, board: Board, now: dt.datetime) -> None:
        with unit_of_work(self.driver.cache) as s:
            self._status(s, board, now)

    def close(self, now: dt.datetime) -> None:
        """Stop: open stretches end at each board's last confirmation."""
        with unit_of_work(self.driver.cache) as s:
            for board in self.boards:
                rt = self.runtime[board.name]
                self._close_log(s, rt, rt.last_ok_at or now)


class Driver:
    """All configured boards, one :class:`PortWorker` per port."""

    def __init__(self, config: Config, cache: Cache, *,
                 boards: Sequence[BoardConfig] | None = None,
                 clock: Clock | None = None, sleep: Sleep | None = None,
                 settings: DriverSettings | None = None,
                 ports: PortRegistry | None = None,
                 periodic: PeriodicSync | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.cache = cache
        # Sync in the background: boards read the cache in fresh sessions each tick, so
        # they show the last verified bundle until a new one commits, whatever sync does.
        self.periodic = periodic
        self.settings = settings or DriverSettings.from_config(config.driver)
        tz = ZoneInfo(config.community.timezone)
        self.clock: Clock = clock or (lambda: dt.datetime.now(tz).replace(tzinfo=None))
        self._stop = threading.Event()
        self.sleep: Sleep = sleep or self._stop.wait
        self.monotonic = monotonic  # heartbeats (a test may fast-forward it)
        st = self.settings
        self.ports = ports or PortRegistry(lambda url, s: SerialPort(url, s, backoff=Backoff(
            initial_s=st.reconnect_initial_s, max_s=st.reconnect_max_s)))
        by_port: dict[str, list[Board]] = {}
        for cfg in boards if boards is not None else config.boards:
            board = Board(cfg)
            by_port.setdefault(cfg.port, []).append(board)
            self.ports.get(cfg.port, board.serial)  # refuses mismatched line settings
        self.workers = [PortWorker(self, self.ports.get(url, bs[0].serial), bs)
                        for url, bs in by_port.items()]
        self._started = False

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def stuck(self) -> str | None:
        """The watchdog check: None while every worker keeps its heartbeat, else which
        boards' worker is stuck and doing what (display_driver.liveness)."""
        return stuck(w.heartbeat for w in self.workers)

    def stop(self) -> None:
        """Ask every worker to finish its tick and return (signal handlers call this)."""
        self._stop.set()
        if self.periodic is not None:
            self.periodic.stop()

    def start(self) -> None:
        """Prepare the cache: close log rows a crashed run left open; statuses unknown."""
        now = self.clock()
        names = [b.name for w in self.workers for b in w.boards]
        with unit_of_work(self.cache) as s:
            closed = close_stale_log_rows(s, names)
            for name in names:
                row = _status_row(s, name, now)
                row.state, row.consecutive_failures, row.updated_at = (
                    BoardState.UNKNOWN, 0, now)
            s.execute(update(BoardStatus).where(BoardStatus.board.not_in(names))
                      .values(state=BoardState.UNKNOWN, updated_at=now,
                              last_error="not in the configuration any more"))
        if closed:
            log.info("closed %d display-log rows left open by the previous run", closed)
        self._started = True

    def step(self, now: dt.datetime | None = None) -> dt.datetime:
        """One tick of every worker, one after the other (``--once`` and tests)."""
        if not self._started:
            self.start()
        now = now or self.clock()
        return min((w.step(now) for w in self.workers),
                   default=now + dt.timedelta(seconds=self.settings.poll_s))

    def run(self, once: bool = False) -> None:
        """Drive the boards until :meth:`stop` (or one tick with ``once``); the periodic
        sync, if any, runs alongside (not with ``once``) and ends with the driver."""
        if not self._started:
            self.start()
        threads = [threading.Thread(target=self._loop, args=(w, once), daemon=True,
                                    name=f"board-port-{w.port.url}") for w in self.workers]
        if self.periodic is not None and not once:
            self.periodic.start()
        for w in self.workers:
            w.heartbeat.beat(TURN_BUDGET_S, "starting")
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if self.periodic is not None:
            self.periodic.stop()
            self.periodic.join()
        self.shutdown()

    def _loop(self, worker: PortWorker, once: bool) -> None:
        while not self._stop.is_set():
            now = self.clock()
            try:
                nxt = worker.step(now)
            except Exception:  # a worker thread must never die silently
                log.exception("%s: unexpected error; continuing", worker.port.url)
                nxt = now + dt.timedelta(seconds=self.settings.poll_s)
            if once:
                break
            delay = max((nxt - self.clock()).total_seconds(), MIN_SLEEP_S)
            worker.heartbeat.beat(delay + TURN_BUDGET_S, "waiting for the next update")
            self.sleep(delay)
        worker.heartbeat.finished()

    def shutdown(self) -> None:
        now = self.clock()
        for w in self.workers:
            try:
                w.close(now)
            except CacheError as e:
                log.error("cannot close the display log: %s", e)
        self.ports.close_all()

