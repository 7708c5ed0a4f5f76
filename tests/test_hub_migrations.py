"""The hub database's own Alembic migrations (content/hub/migrations), on SQLite and, where
a PostgreSQL server can be started, on PostgreSQL: upgrades keep the data, a failing
revision changes nothing, the models match the migrations, and the hub's history never
touches the cache's."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from content.hub.migrate import (
    HUB_MIGRATIONS_DIR,
    VERSION_TABLE,
    HubSchemaError,
    current_revision,
    head_revision,
    upgrade,
)
from content.hub.models import HubBase, hub_engine, hub_sessions
from tests.sync_support import PostgresServer, postgres_server, postgres_unavailable

T = dt.datetime(2026, 6, 10, 9, 30)
NO_PG = postgres_unavailable()


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer | None]:
    if NO_PG is not None:
        yield None
        return
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path, pg: PostgresServer | None) -> str:
    if request.param == "sqlite":
        return f"sqlite+pysqlite:///{tmp_path / 'hub.sqlite3'}"
    if pg is None:
        pytest.skip(NO_PG or "no PostgreSQL")
    return pg.create_database(f"mig_{request.node.name[:40].lower()}".replace("[", "_")
                              .replace("]", ""))


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    e = hub_engine(url)
    yield e
    e.dispose()


def insert_rev1_rows(e: Engine) -> None:
    with e.begin() as conn:
        conn.execute(text(
            "INSERT INTO hub_feedback (idempotency_key, payload_sha256, submitted_at, "
            "received_at, ticket, kind, topic, text, contact_name, reply_text, replied_by) "
            "VALUES ('k1', :sha, :t, :t, 'T1', 'question', '电梯', '电梯何时修好？', '李阿姨', "
            "'下周一。', '居委会')"), {"sha": "a" * 64, "t": T})
        conn.execute(text(
            "INSERT INTO hub_survey (idempotency_key, payload_sha256, submitted_at, "
            "received_at, survey, rating, comment) VALUES ('s1', :sha, :t, :t, '测评', "
            "'basic', '')"), {"sha": "b" * 64, "t": T})


def assert_rows_intact(e: Engine) -> None:
    with e.connect() as conn:
        fb = conn.execute(text("SELECT idempotency_key, ticket, text, contact_name, "
                               "reply_text, submitted_at FROM hub_feedback")).all()
        sv = conn.execute(text("SELECT idempotency_key, rating FROM hub_survey")).all()
    # Raw SQL: SQLite hands the timestamp back as text, PostgreSQL as a datetime.
    rows = [(*r[:5], str(r[5]).replace("T", " ")) for r in fb]
    assert rows == [("k1", "T1", "电梯何时修好？", "李阿姨", "下周一。", "2026-06-10 09:30:00")]
    assert [tuple(r) for r in sv] == [("s1", "basic")]


def test_first_revision_upgrades_to_head_with_data_intact(engine: Engine) -> None:
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    insert_rev1_rows(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision() != "0001"
    assert_rows_intact(engine)
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("hub_feedback")}
    assert "ix_hub_feedback_submitted_at" in indexes


def test_models_match_the_migrations(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        diff = compare_metadata(ctx, HubBase.metadata)
    assert diff == []


def test_hub_has_its_own_version_table(engine: Engine, url: str) -> None:
    _, sessions = hub_sessions(url)
    sessions.kw["bind"].dispose()
    tables = set(inspect(engine).get_table_names())
    assert VERSION_TABLE in tables and "alembic_version" not in tables  # the cache's name
    assert VERSION_TABLE == "hub_alembic_version"


def test_pre_migration_database_is_adopted(engine: Engine, url: str) -> None:
    """A hub made by create_all before migrations: its tables are revision 0001's and there
    is no version table. Opening it stamps 0001 and runs the rest, keeping the rows."""
    upgrade(engine, "0001")
    insert_rev1_rows(engine)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {VERSION_TABLE}"))
    assert current_revision(engine) is None
    e2, _ = hub_sessions(url)
    e2.dispose()
    assert current_revision(engine) == head_revision()
    assert_rows_intact(engine)


def test_failing_revision_leaves_the_previous_schema(engine: Engine, tmp_path: Path) -> None:
    """All pending revisions run in one transaction: a revision that fails after creating a
    table and altering another leaves neither change (transactional DDL, both backends)."""
    scripts = tmp_path / "hub-migrations"
    shutil.copytree(HUB_MIGRATIONS_DIR, scripts,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0099_broken.py").write_text(
        '"""broken"""\nimport sqlalchemy as sa\nfrom alembic import op\n'
        f'revision = "0099"\ndown_revision = "{head_revision()}"\n'
        "branch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade() -> None:\n"
        '    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))\n'
        '    op.create_index("ix_half", "hub_survey", ["rating"])\n'
        '    op.execute("SELECT no_such_column FROM hub_survey")\n\n\n'
        "def downgrade() -> None:\n    pass\n")
    upgrade(engine, "0001")
    insert_rev1_rows(engine)
    with pytest.raises(Exception, match="no_such_column"):
        upgrade(engine, script_location=scripts)
    assert current_revision(engine) == "0001"  # not even 0002, which ran in the same transaction
    insp = inspect(engine)
    assert "half_done" not in insp.get_table_names()
    assert "ix_hub_feedback_submitted_at" not in {i["name"] for i in
                                                  insp.get_indexes("hub_feedback")}
    assert_rows_intact(engine)


def test_unknown_revision_is_refused(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'ffff'"))
    with pytest.raises(HubSchemaError, match="newer version"):
        upgrade(engine)


def test_hubs_starting_together_both_open_the_database(url: str) -> None:
    """`juwu hub serve` and `juwu hub inbox` (or two hub workers) on a fresh database at
    once, as separate processes: one migrates, the others wait for it and find the head
    (no 'table already exists')."""
    code = ("import sys; from content.hub.models import hub_sessions; "
            "hub_sessions(sys.argv[1])[0].dispose()")
    procs = [subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE)
             for _ in range(2)]
    results = [(p.wait(60), p.stderr.read() if p.stderr else b"") for p in procs]
    for p in procs:
        if p.stderr:
            p.stderr.close()
    assert [r[0] for r in results] == [0, 0], results
    e = hub_engine(url)
    try:
        assert current_revision(e) == head_revision()
    finally:
        e.dispose()


def test_threads_of_one_process_migrate_one_at_a_time(url: str) -> None:
    """Alembic's `context` is process-global: upgrade() serialises callers in a process."""
    gate = threading.Barrier(3)
    errors: list[BaseException] = []

    def open_hub() -> None:
        try:
            gate.wait(10)
            hub_sessions(url)[0].dispose()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_hub) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []


def test_hub_commands_report_an_unreachable_database(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A district hub whose PostgreSQL is down: a one-line error, no traceback."""
    from content.cli import main

    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nothing listens there now
    monkeypatch.setenv("JUWU_HUB__DATABASE_URL", f"postgresql+psycopg://juwu@127.0.0.1:{port}/x")
    assert main(["hub", "inbox", "--data-dir", str(tmp_path)]) == 1
    assert main(["hub", "reply", "T1", "好", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("cannot open the hub database") == 2 and "Traceback" not in err
