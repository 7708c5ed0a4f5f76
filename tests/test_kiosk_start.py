"""The kiosk's start: home drawn first (from the saved home while it is exact), cache after.

The saved home must never show what the cache no longer says: any write to disclosed
content, the passing of the moment home changes by itself, another community name or a
damaged file each send the kiosk the slow way (kiosk/home_snapshot.py).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from content.config import Config, load_config
from content.db import Cache, unit_of_work
from content.models import Announcement, Disclosure
from kiosk import home_snapshot
from kiosk.backend import Backend
from kiosk.data import KioskData

NOW = dt.datetime(2026, 6, 15, 10, 0)
MIDNIGHT = dt.datetime(2026, 6, 16)


def saved(config: Config, cache: Cache, now: dt.datetime = NOW) -> Backend:
    """A backend that has read home from the cache (and so saved it)."""
    backend = Backend(config, now=lambda: now, cache=cache)
    backend.home()
    return backend


def later_start(config: Config, now: dt.datetime = NOW) -> Backend:
    return Backend(config, now=lambda: now)


def test_home_says_what_it_was_read_from_and_until_when(loaded: Cache, config: Config) -> None:
    view = KioskData(loaded, config, now=lambda: NOW).home()
    assert len(view.stamp) == 32
    # The water-cut notice ends tomorrow at noon, the clinic has no end: midnight comes first.
    assert view.until == MIDNIGHT
    with unit_of_work(loaded) as s:
        s.add(Announcement(uid="ann-meeting", text="10:30 居民议事会", boards=[],
                           valid_from=dt.datetime(2026, 6, 15, 10, 30),
                           valid_until=dt.datetime(2026, 6, 15, 12)))
    # Home looks a minute ahead, so the list changes at 10:29.
    assert KioskData(loaded, config, now=lambda: NOW).home().until == dt.datetime(
        2026, 6, 15, 10, 29)
    assert KioskData(loaded, config, now=lambda: NOW.replace(hour=11)).home().until == (
        dt.datetime(2026, 6, 15, 12))


def test_a_later_start_draws_the_saved_home_without_opening_the_cache(
        loaded: Cache, config: Config) -> None:
    assert Backend(config, now=lambda: NOW, cache=loaded).saved_home() is None  # none yet
    view = saved(config, loaded).home()
    later = later_start(config)
    assert later.saved_home() == view
    assert not later.is_open  # the check reads the stamp with sqlite3, not the cache layer
    assert view.tiles and view.announcements == ["明日9:00-12:00停水，请提前储水", "每周六上午义诊"]


@pytest.mark.parametrize("change", ["retitle", "take down", "new announcement",
                                    "delete announcement"])
def test_any_change_to_disclosed_content_drops_the_saved_home(
        loaded: Cache, config: Config, change: str) -> None:
    saved(config, loaded)
    with unit_of_work(loaded) as s:
        d = s.scalars(select(Disclosure).where(Disclosure.uid == "aff-2026-05")).one()
        if change == "retitle":
            d.title = "2026年5月社区事务公开（更正）"
        elif change == "take down":
            d.take_down_on = d.publish_on + dt.timedelta(days=10)  # the shortest allowed
        elif change == "new announcement":
            s.add(Announcement(uid="ann-x", text="明天停电", valid_from=NOW, boards=[]))
        else:
            s.delete(s.scalars(select(Announcement)).first())
    assert later_start(config).saved_home() is None
    # Read again from the cache, it is saved again and good for the next start.
    view = saved(config, loaded).home()
    assert later_start(config).saved_home() == view


def test_a_submission_or_board_report_keeps_the_saved_home(loaded: Cache,
                                                           config: Config) -> None:
    """Residents' questions and the boards' reports are not what home shows."""
    from content.domain import FeedbackKind
    from content.submissions import submit_feedback

    view = saved(config, loaded).home()
    submit_feedback(loaded, config, kind=FeedbackKind.QUESTION, topic="其他", text="几点开门？",
                    now=NOW)
    assert later_start(config).saved_home() == view


def test_the_saved_home_expires_when_time_alone_changes_home(loaded: Cache,
                                                             config: Config) -> None:
    view = saved(config, loaded).home()
    assert later_start(config, MIDNIGHT - dt.timedelta(seconds=1)).saved_home() == view
    assert later_start(config, MIDNIGHT).saved_home() is None  # a new day: "this week" moves


def test_another_community_name_or_cache_drops_the_saved_home(loaded: Cache, config: Config,
                                                               tmp_path: Path) -> None:
    saved(config, loaded)
    renamed = load_config(environ={"JUWU_PATHS__DATA_DIR": str(config.data_dir),
                                   "JUWU_COMMUNITY__NAME": "别的社区"})
    assert later_start(renamed).saved_home() is None
    # The same file beside another cache (restored, replaced): its stamp differs.
    other = load_config(environ={"JUWU_PATHS__DATA_DIR": str(tmp_path / "other")})
    from content.db import open_cache

    open_cache(other.database_path).close()
    (other.data_dir / home_snapshot.FILENAME).write_bytes(
        (config.data_dir / home_snapshot.FILENAME).read_bytes())
    assert later_start(other).saved_home() is None


@pytest.mark.parametrize("damage", ["", "{", "[]", '{"format": 1}', "\udcff"])
def test_a_damaged_saved_home_is_ignored_with_a_warning(
        loaded: Cache, config: Config, damage: str, caplog: pytest.LogCaptureFixture) -> None:
    path = config.data_dir / home_snapshot.FILENAME
    path.write_bytes(damage.encode("utf-8", "surrogateescape"))
    with caplog.at_level(logging.WARNING, logger="kiosk.home_snapshot"):
        assert later_start(config).saved_home() is None
    assert "ignoring the saved home" in caplog.text
    saved(config, loaded)  # and it is replaced by a good one
    assert later_start(config).saved_home() is not None


def test_a_home_that_cannot_be_saved_is_still_shown(loaded: Cache, config: Config,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    backend = Backend(config, now=lambda: NOW, cache=loaded)
    backend.snapshot_path = config.data_dir / "missing-dir" / home_snapshot.FILENAME
    with caplog.at_level(logging.WARNING, logger="kiosk.home_snapshot"):
        view = backend.home()
        assert backend.home() == view  # the same home: not tried (and warned about) again
    assert view.tiles and caplog.text.count("could not save home") == 1
    assert not list(config.data_dir.glob(".*.tmp"))


def test_home_is_saved_only_when_it_changed(loaded: Cache, config: Config) -> None:
    backend = saved(config, loaded)
    path = config.data_dir / home_snapshot.FILENAME
    first = path.stat().st_mtime_ns
    os.utime(path, ns=(first - 10**9, first - 10**9))
    backend.home()  # the same home: no write (an SD card wears out)
    assert path.stat().st_mtime_ns == first - 10**9


# -- in a process of its own: Kivy's window is process-global, and pytest already has
# -- SQLAlchemy loaded ---------------------------------------------------------------------

FIRST_FRAME = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    from content.config import load_config
    from kiosk import boot
    config = load_config(environ={"JUWU_PATHS__DATA_DIR": sys.argv[1]})
    boot.prepare(kivy_home=config.data_dir / "kivy", windowed=True, size=(1280, 720),
                 headless=True)
    boot.register_font(boot.find_font())
    from kivy.base import EventLoop, runTouchApp
    from kiosk.app import KioskApp
    from kiosk.backend import Backend
    from kiosk.settings import KioskSettings
    reads = []
    class Counting(Backend):
        def home(self):
            reads.append(1)
            return super().home()
    app = KioskApp(Counting(config), KioskSettings(), allow_close=True)
    app._run_prepare()
    runTouchApp(embedded=True)
    EventLoop.idle()  # the first frame
    home = app.screen("home")
    def state():
        return {"sqlalchemy": "sqlalchemy" in sys.modules, "ready": app.ready,
                "reads": len(reads),
                "tiles": len(home.tiles), "new": [r["title"] for r in home.new_items]}
    first = state()
    deadline = time.monotonic() + 30
    while (app.worker.pending or not app.ready) and time.monotonic() < deadline:
        EventLoop.idle()
    print(json.dumps({"first": first, "settled": state()}, ensure_ascii=False))
    app.stop()
""")


def first_frame(config: Config) -> dict[str, dict[str, object]]:
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1"}
    run = subprocess.run([sys.executable, "-c", FIRST_FRAME, str(config.data_dir)], env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    out: dict[str, dict[str, object]] = json.loads(run.stdout.splitlines()[-1])
    return out


def test_first_frame_is_home_from_the_saved_home_before_the_database_is_imported(
        loaded: Cache, config: Config) -> None:
    # The child runs on the real clock: save home as it is now.
    view = Backend(config, cache=loaded).home()
    expected = [r.title for r in view.new_this_week]
    loaded.close()
    got = first_frame(config)
    assert got["first"] == {"sqlalchemy": False, "ready": True, "tiles": len(view.tiles),
                            "new": expected, "reads": 0}
    assert got["settled"]["sqlalchemy"] is True  # then the worker opened the cache
    assert got["settled"]["reads"] == 1  # and read home once from it
    assert got["settled"]["new"] == expected


def test_without_a_saved_home_the_first_frame_waits_for_the_cache(loaded: Cache,
                                                                  config: Config) -> None:
    loaded.close()
    got = first_frame(config)
    assert got["first"]["ready"] is False and got["first"]["tiles"] == 0
    assert got["settled"]["ready"] is True and got["settled"]["tiles"] == 5
    assert got["settled"]["reads"] == 1  # once, not again when the cache opened
    assert (config.data_dir / home_snapshot.FILENAME).exists()  # for the next start


def test_a_cache_that_cannot_be_opened_stops_the_kiosk_with_the_reason(config: Config) -> None:
    config.data_dir.mkdir(parents=True)
    config.database_path.write_bytes(b"not a database, just some bytes" * 100)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUWU_")}
    env.update({"SDL_VIDEODRIVER": "offscreen", "KIVY_NO_ARGS": "1"})
    run = subprocess.run([sys.executable, "-m", "content.cli", "--data-dir",
                          str(config.data_dir), "kiosk", "--windowed"],
                         env=env, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 1
    assert "juwu kiosk: " in run.stderr and "Traceback" not in run.stderr, run.stderr[-3000:]
    assert config.database_path.read_bytes().startswith(b"not a database")  # untouched


def test_juwu_kiosk_loads_only_the_kiosk_commands() -> None:
    code = ("import sys; from content.cli import build_parser; build_parser('kiosk'); "
            "print(sorted(m for m in ('sqlalchemy', 'alembic', 'content.commands', "
            "'display_driver.cli', 'importlib.metadata') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert run.stdout.strip() == "[]"
    from content.cli import build_parser

    help_text = build_parser().format_help()  # `juwu --help` still lists every command
    assert all(name in help_text for name in ("kiosk", "board", "sync", "import", "doctor"))
