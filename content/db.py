"""The local cache: one SQLite file in WAL mode, migrated to the newest schema on open.

The engine leaves transactions to SQLAlchemy instead of pysqlite (the documented
event-listener recipe), so that Alembic can run each migration in one transaction and a
migration that fails half-way leaves the previous schema intact.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from content.errors import CacheError
from content.stamp import APPLICATION_ID as APPLICATION_ID  # re-exported

# The newest migration in content/migrations/versions (a test keeps the two equal). A cache
# already at it opens without importing Alembic, which is a third of a kiosk's start-up.
SCHEMA_HEAD = "0006"


@dataclass(frozen=True)
class Cache:
    """An open cache: the engine and the session factory built on it."""

    engine: Engine
    sessions: sessionmaker[Session]
    path: Path

    def close(self) -> None:
        self.engine.dispose()


def make_engine(path: Path, *, synchronous: str = "NORMAL") -> Engine:
    """A SQLAlchemy engine for the cache file with juwu's connection settings."""
    engine = create_engine(f"sqlite+pysqlite:///{path}", future=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own handling would defeat
        # transactional DDL and SAVEPOINTs).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA busy_timeout = 5000")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def open_cache(path: Path, *, migrate: bool = True) -> Cache:
    """Open (creating if needed) the cache at `path` and bring its schema up to date.

    Raises:
        CacheError: the file is not a SQLite database, is damaged, belongs to another
            program, or its schema is newer than this version of juwu understands.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(path)
    try:
        _check_identity(engine, path)
        if migrate and schema_revision(engine) != SCHEMA_HEAD:
            from content.migrate import upgrade

            upgrade(engine)
    except (DatabaseError, OperationalError) as e:
        engine.dispose()
        raise CacheError(_explain(path, e)) from e
    except CacheError:
        engine.dispose()
        raise
    return Cache(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False), path=path)


def schema_revision(engine: Engine) -> str | None:
    """The revision Alembic recorded, read without Alembic; None before the first migration."""
    with engine.connect() as conn:
        if not conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).first():
            return None
        row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return None if row is None else str(row[0])


def _check_identity(engine: Engine, path: Path) -> None:
    # Look before the engine touches the file: its connect hook would switch a foreign
    # database to WAL, which already changes the file.
    if path.exists() and path.stat().st_size > 0:
        probe = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            app_id = probe.execute("PRAGMA application_id").fetchone()[0]
            tables = probe.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        except sqlite3.DatabaseError as e:
            raise CacheError(_explain(path, e)) from e
        finally:
            probe.close()
        if app_id == APPLICATION_ID:
            return
        if app_id != 0 or tables:
            raise CacheError(
                f"{path} is a SQLite database of another program "
                f"(application_id={app_id:#x}, {tables} tables); juwu will not change it. "
                "Point paths.data_dir (or --data-dir) at another directory."
            )
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")


def _explain(path: Path, error: Exception) -> str:
    msg = str(getattr(error, "orig", error))
    if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
        return (
            f"{path} is damaged or not a SQLite database ({msg}). Nothing was changed. "
            f"Move it aside (e.g. mv {path} {path}.broken) and run `juwu init`, then sync "
            "again to refill the cache."
        )
    if "full" in msg:
        return f"{path}: the disk is full ({msg}). Free some space; nothing was lost."
    return f"{path}: cannot open the cache ({msg})."


@contextmanager
def unit_of_work(cache: Cache) -> Iterator[Session]:
    """One transaction; committed on success, rolled back on any error.

    Raises:
        CacheError: the database refused the write (disk full, damaged file, locked);
            the transaction was rolled back, so nothing half-written remains.
    """
    try:
        with cache.sessions.begin() as session:
            yield session
    except (DatabaseError, OperationalError) as e:
        raise CacheError(_explain(cache.path, e)) from e


def integrity_problems(engine: Engine) -> list[str]:
    """What `PRAGMA quick_check` finds wrong; an empty list means healthy."""
    try:
        with engine.connect() as conn:
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check").fetchall()]
    except DatabaseError as e:
        return [str(e.orig)]
    return [] if rows == ["ok"] else rows
