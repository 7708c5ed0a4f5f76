from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from content.config import Config
from content.db import (
    APPLICATION_ID,
    SCHEMA_HEAD,
    Cache,
    integrity_problems,
    make_engine,
    open_cache,
    schema_revision,
    unit_of_work,
)
from content.domain import Category, Kind
from content.errors import CacheError
from content.importer import RawContent, import_content
from content.migrate import MIGRATIONS_DIR, current_revision, head_revision, upgrade
from content.models import Disclosure, Feedback, Service
from content.search import search
from tests.conftest import TODAY, disclosure, load, mini


def test_new_cache_is_wal_marked_and_at_head(cache: Cache) -> None:
    with cache.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA application_id").scalar_one() == APPLICATION_ID
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    assert current_revision(cache.engine) == head_revision()


def test_schema_head_constant_is_alembics_head(cache: Cache) -> None:
    # open_cache skips Alembic when the cache is at SCHEMA_HEAD: a new migration must bump it.
    assert head_revision() == SCHEMA_HEAD
    assert schema_revision(cache.engine) == head_revision()


def test_reopening_keeps_content(loaded: Cache) -> None:
    path = loaded.path
    loaded.close()
    again = open_cache(path)
    with again.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Disclosure)) == 6
    again.close()


def test_foreign_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT)")
        conn.execute("INSERT INTO accounts VALUES (1, 'someone')")
    before = path.read_bytes()
    with pytest.raises(CacheError, match="another program"):
        open_cache(path)
    assert path.read_bytes() == before


def test_corrupt_file_is_refused_with_advice_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"this is not a database, just some text\n" * 200)
    before = path.read_bytes()
    with pytest.raises(CacheError) as err:
        open_cache(path)
    assert "damaged or not a SQLite database" in str(err.value)
    assert "juwu init" in str(err.value)
    assert path.read_bytes() == before


def test_damaged_pages_are_reported_and_refused(loaded: Cache) -> None:
    path = loaded.path
    with loaded.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    loaded.close()
    data = bytearray(path.read_bytes())
    data[4096 * 2: 4096 * 12] = b"\xff" * (4096 * 10)  # smash pages past the header
    path.write_bytes(bytes(data))
    try:
        damaged = open_cache(path)
    except CacheError as e:  # the schema pages were hit
        assert "damaged" in str(e)
        return
    assert integrity_problems(damaged.engine)
    with pytest.raises(CacheError, match="damaged"), unit_of_work(damaged) as s:
        for model in (Disclosure, Service, Feedback):
            s.scalars(select(model)).all()
        s.execute(text("SELECT * FROM search_doc")).all()
    damaged.close()


def test_failing_migration_leaves_previous_schema(tmp_path: Path, cache: Cache) -> None:
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0099_broken.py").write_text(
        '"""broken"""\nfrom alembic import op\nimport sqlalchemy as sa\n'
        f'revision = "0099"\ndown_revision = "{head_revision()}"\nbranch_labels = None\n'
        'depends_on = None\n'
        "def upgrade():\n"
        '    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))\n'
        '    with op.batch_alter_table("disclosure") as b:\n'
        '        b.add_column(sa.Column("extra", sa.Text))\n'
        '    op.execute("THIS IS NOT SQL")\n'
        "def downgrade():\n    pass\n",
        encoding="utf-8",
    )
    with pytest.raises(Exception, match="syntax error"):
        upgrade(cache.engine, script_location=scripts)
    assert current_revision(cache.engine) == head_revision()
    with cache.engine.connect() as conn:
        tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
        columns = {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(disclosure)")}
    assert "half_done" not in tables
    assert "extra" not in columns


def test_cache_from_a_newer_juwu_is_refused_and_untouched(cache: Cache) -> None:
    path = cache.path
    cache.close()
    with sqlite3.connect(path) as conn:  # what a newer juwu's migration leaves
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    before = path.read_bytes()
    with pytest.raises(CacheError) as err:
        open_cache(path)
    assert str(err.value) == (
        "the cache schema is at revision 0099, which this juwu does not know: it was written "
        "by a newer version. Upgrade juwu or use another data directory.")
    assert path.read_bytes() == before
    engine = make_engine(path)
    with pytest.raises(CacheError, match="newer version"):  # also when asked directly
        upgrade(engine)
    engine.dispose()


def test_upgrade_from_first_schema_indexes_existing_content(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    engine = make_engine(path)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
    upgrade(engine, "0001")
    with sessionmaker(engine).begin() as s:
        s.add(Disclosure(uid="old-1", category=Category.AFFAIRS, kind=Kind.FIXED,
                         title="社区电梯维保单位公示", body="维保单位：某某电梯公司",
                         publish_on=dt.date(2025, 3, 10)))
    engine.dispose()
    cache = open_cache(path)
    assert current_revision(cache.engine) == head_revision()
    with cache.sessions() as s:
        hits = search(s, "电梯", today=TODAY).hits
    assert [h.uid for h in hits] == ["old-1"]
    cache.close()


def test_ten_day_minimum_is_also_a_database_constraint(cache: Cache) -> None:
    with pytest.raises(IntegrityError, match="min_display_10_days"), \
            cache.sessions.begin() as s:
        s.add(Disclosure(uid="short", category=Category.AFFAIRS, kind=Kind.IMMEDIATE,
                         title="t", body="b", publish_on=dt.date(2026, 1, 1),
                         take_down_on=dt.date(2026, 1, 5)))


def test_disk_full_during_import_loses_nothing(loaded: Cache, config: Config) -> None:
    path = loaded.path
    loaded.close()
    engine = make_engine(path)

    @event.listens_for(engine, "connect")
    def _limit(dbapi_connection: Any, _record: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 2}")

    full = Cache(engine=engine, sessions=sessionmaker(engine), path=path)
    big = {"disclosure": [
        disclosure(f"bulk-{i}", f"批量事项{i}", "内容" * 2000, dt.date(2026, 5, 1))
        for i in range(50)
    ]}
    with pytest.raises(CacheError, match="full"), unit_of_work(full) as session:
        import_content(session, RawContent.from_mapping(big), config)
    engine.dispose()
    again = open_cache(path)
    with again.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Disclosure)) == 6
        assert s.scalar(text("SELECT count(*) FROM search_doc WHERE uid LIKE 'bulk-%'")) == 0
    again.close()


def test_loading_twice_changes_nothing(loaded: Cache, config: Config) -> None:
    load(loaded, config, mini())
    with loaded.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Disclosure)) == 6
        assert s.scalar(text("SELECT count(*) FROM search_doc")) == 8


def test_upgrade_gives_existing_services_an_empty_map_link(tmp_path: Path,
                                                             config: Config) -> None:
    # A service stored by the first schema: migration 0002 indexes it (reading only the
    # columns that existed then), 0004 adds map_url = "" to it.
    path = tmp_path / "old.sqlite3"
    engine = make_engine(path)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO service (uid, name, kind, address, phone, hours, notes) VALUES "
            "('svc-old', '社区卫生服务站', 'health', '幸福路18号', '0571-80000000', '', '')")
    upgrade(engine, "0003")
    with engine.connect() as conn:
        columns = {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(service)")}
    assert "map_url" not in columns
    engine.dispose()
    cache = open_cache(path)
    assert current_revision(cache.engine) == head_revision()
    with cache.sessions() as s:
        (old,) = s.scalars(select(Service)).all()
        assert (old.uid, old.map_url) == ("svc-old", "")
        assert [h.uid for h in search(s, "卫生", today=TODAY).hits] == ["svc-old"]
    url = "https://uri.amap.com/marker?position=120.15507,30.27415"
    with unit_of_work(cache) as s:
        report = import_content(s, RawContent.from_mapping({"service": [
            {"uid": "svc-old", "name": "社区卫生服务站", "kind": "health",
             "address": "幸福路18号", "phone": "0571-80000000", "map_url": url}]}), config)
    assert report.updated["service"] == 1
    with cache.sessions() as s:
        assert s.scalars(select(Service.map_url)).one() == url
    cache.close()
