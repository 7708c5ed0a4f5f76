"""Alembic environment: runs on the connection content.migrate hands in."""

from __future__ import annotations

from typing import Any

from alembic import context

from content.models import Base

# The FTS5 virtual tables and their shadow tables are created by hand in migrations;
# autogenerate must neither drop nor recreate them.
FTS_PREFIXES = ("search_tri", "search_uni")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                   compare_to: Any) -> bool:
    return not (type_ == "table" and name is not None and name.startswith(FTS_PREFIXES))


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:  # `alembic revision --autogenerate` from a developer's shell
        from sqlalchemy import create_engine

        url = context.config.get_main_option("sqlalchemy.url") or "sqlite:///autogen.sqlite3"
        connection = create_engine(url).connect()
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        transactional_ddl=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


run()
