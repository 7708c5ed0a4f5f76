"""The hub database's schema migrations (Alembic), run whenever the hub opens it.

Kept apart from the device cache's migrations (content/migrations): their own script
location and version table (`hub_alembic_version`), so the two histories never meet even
if someone points both at one database. All pending revisions run in one transaction on
SQLite and PostgreSQL alike (transactional DDL): a failure leaves the previous schema and
data as they were. Processes that start together wait for each other (SQLite: BEGIN
IMMEDIATE; PostgreSQL: an advisory lock in content/hub/migrations/env.py).

A hub database made before migrations existed (by `create_all`, schema = revision 0001)
is adopted: stamped 0001, then upgraded.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util import CommandError
from sqlalchemy import Engine

from content.hub.models import IMMEDIATE_OPTION

HUB_MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "hub_alembic_version"
FIRST_REVISION = "0001"
# pg_advisory_xact_lock key: "JUWUHUB" as a number, so unrelated tools never take it.
PG_LOCK_KEY = 0x4A555755485542
# Alembic's `context` is module-global: two threads of one process must not migrate at once.
_IN_PROCESS = threading.Lock()


class HubSchemaError(RuntimeError):
    """The hub database cannot be used by this juwu; the message says why."""


def alembic_config(script_location: Path = HUB_MIGRATIONS_DIR) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(script_location))
    return cfg


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


def head_revision(script_location: Path = HUB_MIGRATIONS_DIR) -> str:
    head = ScriptDirectory.from_config(alembic_config(script_location)).get_current_head()
    assert head is not None
    return head


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except (ResolutionError, CommandError):
        return False


def upgrade(engine: Engine, revision: str = "head",
            script_location: Path = HUB_MIGRATIONS_DIR) -> None:
    """Bring the hub schema to `revision` (one transaction).

    Raises:
        HubSchemaError: the database is at a revision this juwu does not know (newer).
    """
    with _IN_PROCESS:
        _upgrade(engine, revision, script_location)


def _upgrade(engine: Engine, revision: str, script_location: Path) -> None:
    cfg = alembic_config(script_location)
    current = current_revision(engine)
    if current is not None and not _known(ScriptDirectory.from_config(cfg), current):
        raise HubSchemaError(
            f"the hub database is at schema revision {current}, which this juwu does not "
            "know: it was written by a newer version. Upgrade juwu on the hub.")
    with engine.connect() as conn:
        conn.execution_options(**{IMMEDIATE_OPTION: True})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
