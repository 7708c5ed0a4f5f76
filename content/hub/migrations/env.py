"""Alembic environment of the hub database: runs on the connection content.hub.migrate
hands in (or, for `alembic revision --autogenerate` from a shell, sqlalchemy.url)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, inspect

from content.hub.migrate import FIRST_REVISION, PG_LOCK_KEY, VERSION_TABLE
from content.hub.models import HubBase


def _adopt_pre_migration_db(connection: Connection) -> None:
    """A hub made by `create_all` (before migrations) has revision 0001's tables but no
    version table: record 0001 so only the later revisions run."""
    insp = inspect(connection)
    if not insp.has_table(VERSION_TABLE) and insp.has_table("hub_feedback"):
        context.get_context().stamp(context.script, FIRST_REVISION)


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:  # a developer's shell
        url = context.config.get_main_option("sqlalchemy.url") or "sqlite:///hub-autogen.sqlite3"
        connection = create_engine(url).connect()
    context.configure(
        connection=connection,
        target_metadata=HubBase.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,  # SQLite alters tables by copying them
        transactional_ddl=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Hub processes starting together: the second waits, then finds the head.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_LOCK_KEY})")
        _adopt_pre_migration_db(connection)
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


run()
