"""The cache's content stamp, read with the sqlite3 module alone.

Triggers (migration 0006) give table `content_stamp` a new random token in every
transaction that writes disclosed content, so a token read now equal to one saved earlier
means the content is still exactly what it was then. The kiosk checks a saved home against
it at start-up, before importing SQLAlchemy (about 200 ms): this module imports only the
standard library, and so must anything it ever imports. Inside a session, read the token
with content.queries.content_stamp instead.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# PRAGMA application_id marks a file as a juwu cache ("JUWU" in ASCII); a SQLite file
# with tables and another id is someone else's database and is never touched. Defined
# here, where no SQLAlchemy is imported; content.db uses it from here.
APPLICATION_ID = 0x4A555755
BUSY_TIMEOUT_S = 0.2  # a cache locked for longer means the slow path, not a wait


def read_stamp(database_path: Path) -> str | None:
    """The token in the juwu cache at `database_path`, or None if it cannot be had cheaply.

    None when the file is missing (it is not created), is not a SQLite database or not a
    juwu cache, predates migration 0006, is damaged, or stays locked past BUSY_TIMEOUT_S:
    the caller then reads the cache the slow way, which reports any real problem. Read-only,
    so it reads alongside a writer (the cache is in WAL mode) and never changes the data;
    SQLite may leave the cache's usual (empty) -wal and -shm files beside an existing file.
    """
    try:
        if not database_path.is_file():
            return None
        # A URI, so that mode=ro applies and no name (not even one with ? or #) is misread.
        uri = f"{database_path.absolute().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
    except (OSError, sqlite3.Error):
        return None
    try:
        if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            return None
        row = conn.execute("SELECT token FROM content_stamp WHERE id = 1").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return row[0] if row is not None and isinstance(row[0], str) else None
