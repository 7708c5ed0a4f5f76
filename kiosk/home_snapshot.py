"""Home as it was last drawn, saved beside the cache so the next start draws it at once.

Opening the cache means importing SQLAlchemy and the ORM models, which costs as much as
starting Kivy itself (bench/kiosk_bench.py). A saved home is drawn instead, before any of
that, but only while it is still exactly what the cache would give: the cache's content
stamp (content.stamp, changed by the database itself on every write to disclosed content)
must equal the one home was read with, and the time must be before the moment the passing
of time alone changes home (midnight; an announcement starting or ending). Anything else —
no file, a damaged one, another cache, a read error — means the slow path, never an error.
The kiosk reads home from the cache again as soon as it is open, in any case.

Stdlib only: this runs before the database layer is imported.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path
from typing import Any

from content.stamp import read_stamp
from kiosk.views import CategoryTile, HomeView, Row

log = logging.getLogger(__name__)
FILENAME = "kiosk-home.json"  # in the data directory, beside cache.sqlite3
FORMAT = 1


def load(path: Path, database_path: Path, now: dt.datetime,
         community_name: str) -> HomeView | None:
    """The saved home if it is still what the cache at `database_path` shows at `now`."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(saved, dict) or saved.get("format") != FORMAT:
            raise ValueError(f"not a saved home in format {FORMAT}")
        view, name = _view(saved["view"]), saved["configured_name"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as e:
        log.warning("kiosk: ignoring the saved home %s (%s)", path, e)
        return None
    if name != community_name or view.until is None or now >= view.until or not view.stamp:
        return None
    if read_stamp(database_path) != view.stamp:
        return None
    return view


def save(path: Path, view: HomeView, community_name: str) -> bool:
    """Write `view` for the next start (atomically). A failure only costs that start time."""
    if not view.stamp or view.until is None:
        return False
    body = {"format": FORMAT, "configured_name": community_name, "view": _plain(view)}
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        log.warning("kiosk: could not save home for the next start (%s): %s", path, e)
        tmp.unlink(missing_ok=True)
        return False
    return True


def _plain(view: HomeView) -> dict[str, Any]:
    return {
        "community": view.community,
        "tiles": [[t.value, t.label, t.current] for t in view.tiles],
        "new_this_week": [[r.uid, r.title, r.subtitle, r.status, r.doc_type]
                          for r in view.new_this_week],
        "announcements": view.announcements,
        "stamp": view.stamp,
        "until": view.until.isoformat() if view.until else None,
    }


def _view(plain: dict[str, Any]) -> HomeView:
    until = plain["until"]
    return HomeView(
        community=str(plain["community"]),
        tiles=[CategoryTile(str(v), str(label), int(n)) for v, label, n in plain["tiles"]],
        new_this_week=[Row(*(str(x) for x in row)) for row in plain["new_this_week"]],
        announcements=[str(a) for a in plain["announcements"]],
        stamp=str(plain["stamp"]),
        until=dt.datetime.fromisoformat(until) if until else None,
    )
