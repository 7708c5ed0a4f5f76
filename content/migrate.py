"""Schema migrations (Alembic), run automatically when the cache opens.

All pending migrations run in one transaction (transactional DDL, which Alembic turns
off for SQLite unless asked): a power cut or a failing migration leaves the previous
schema and data exactly as they were.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util import CommandError
from sqlalchemy import Engine

from content.errors import CacheError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(script_location: Path = MIGRATIONS_DIR) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(script_location))
    return cfg


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(script_location: Path = MIGRATIONS_DIR) -> str:
    head = ScriptDirectory.from_config(alembic_config(script_location)).get_current_head()
    assert head is not None
    return head


def is_known_revision(revision: str, script_location: Path = MIGRATIONS_DIR) -> bool:
    """Whether `revision` is one of the migrations in `script_location`.

    False means a newer juwu wrote it. Alembic raises (CommandError or ResolutionError)
    for a revision it has never heard of rather than answering None, so ask this instead.
    """
    script = ScriptDirectory.from_config(alembic_config(script_location))
    try:
        return script.get_revision(revision) is not None
    except (ResolutionError, CommandError):
        return False


def upgrade(engine: Engine, revision: str = "head",
            script_location: Path = MIGRATIONS_DIR) -> None:
    """Bring the schema to `revision`.

    Raises:
        CacheError: the database was written by a newer juwu (unknown revision).
    """
    cfg = alembic_config(script_location)
    current = current_revision(engine)
    if current is not None and not is_known_revision(current, script_location):
        raise CacheError(
            f"the cache schema is at revision {current}, which this juwu does not know: "
            "it was written by a newer version. Upgrade juwu or use another data directory."
        )
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
