"""The content stamp (migration 0006, content.stamp): changes with disclosed content only."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import sessionmaker

from content.config import Config
from content.db import APPLICATION_ID, Cache, make_engine, open_cache
from content.importer import RawContent, import_content
from content.migrate import alembic_config, current_revision, head_revision, upgrade
from content.models import Base, Disclosure
from content.queries import content_stamp
from content.stamp import read_stamp
from tests.conftest import load, mini

ROOT = Path(__file__).resolve().parent.parent
PARENT = "INSERT INTO disclosure (uid, category, kind, title, body, publish_on) " \
         "VALUES ('stamp-parent', 'affairs', 'fixed', '父项', '正文', '2026-06-01')"
PARENT_ID = "(SELECT id FROM disclosure WHERE uid = 'stamp-parent')"

# table: (setup, insert, update, delete); each step writes that table alone.
CONTENT: dict[str, tuple[list[str], str, str, str]] = {
    "community": (
        [],
        "INSERT INTO community (code, name, address, phone, office_hours, description) "
        "VALUES ('other', '和平里社区', '', '', '', '')",
        "UPDATE community SET phone = '0571-1' WHERE code = 'other'",
        "DELETE FROM community WHERE code = 'other'",
    ),
    "disclosure": (
        [],
        PARENT,
        "UPDATE disclosure SET title = '父项（更正）' WHERE uid = 'stamp-parent'",
        "DELETE FROM disclosure WHERE uid = 'stamp-parent'",
    ),
    "sign_off": (
        [PARENT],
        "INSERT INTO sign_off (disclosure_id, role, person, signed_on) "
        f"VALUES ({PARENT_ID}, 'handler', '李晓梅', '2026-05-30')",
        "UPDATE sign_off SET person = '王建国' WHERE person = '李晓梅' "
        f"AND disclosure_id = {PARENT_ID}",
        f"DELETE FROM sign_off WHERE disclosure_id = {PARENT_ID}",
    ),
    "attachment": (
        [PARENT],
        "INSERT INTO attachment (disclosure_id, name, media_type, sha256, size_bytes) "
        f"VALUES ({PARENT_ID}, 'a.pdf', 'application/pdf', printf('%064d', 0), 10)",
        f"UPDATE attachment SET name = 'b.pdf' WHERE disclosure_id = {PARENT_ID}",
        f"DELETE FROM attachment WHERE disclosure_id = {PARENT_ID}",
    ),
    "finance_statement": (
        [PARENT],
        "INSERT INTO finance_statement (disclosure_id, opening_balance_fen) "
        f"VALUES ({PARENT_ID}, 100)",
        f"UPDATE finance_statement SET opening_balance_fen = 200 WHERE disclosure_id = {PARENT_ID}",
        f"DELETE FROM finance_statement WHERE disclosure_id = {PARENT_ID}",
    ),
    "finance_line": (
        [PARENT, f"INSERT INTO finance_statement VALUES ({PARENT_ID}, 100)"],
        "INSERT INTO finance_line (statement_id, seq, direction, category, item, amount_fen, "
        f"note) VALUES ({PARENT_ID}, 1, 'income', '拨款', '经费', 500, '')",
        f"UPDATE finance_line SET amount_fen = 600 WHERE statement_id = {PARENT_ID}",
        f"DELETE FROM finance_line WHERE statement_id = {PARENT_ID}",
    ),
    "service": (
        [],
        "INSERT INTO service (uid, name, kind, address, phone, hours, notes, map_url) "
        "VALUES ('svc-stamp', '便民理发', 'shop', '', '', '', '', '')",
        "UPDATE service SET hours = '9:00-17:00' WHERE uid = 'svc-stamp'",
        "DELETE FROM service WHERE uid = 'svc-stamp'",
    ),
    "announcement": (
        [],
        "INSERT INTO announcement (uid, text, valid_from, priority, boards, emergency) "
        "VALUES ('ann-stamp', '今晚停电', '2026-06-15 08:00:00', 0, '[]', 0)",
        "UPDATE announcement SET text = '今晚停电，请备好照明' WHERE uid = 'ann-stamp'",
        "DELETE FROM announcement WHERE uid = 'ann-stamp'",
    ),
}

NOT_CONTENT: dict[str, tuple[str, str, str]] = {
    "feedback": (
        "INSERT INTO feedback (ticket, idempotency_key, kind, topic, text, submitted_at, "
        "due_on, due_is_estimate, outbox_state) VALUES ('Q-stamp', 'k-stamp', 'question', "
        "'环境', '垃圾桶满了', '2026-06-15 09:00:00', '2026-06-30', 0, 'pending')",
        "UPDATE feedback SET reply_text = '已清理', outbox_state = 'acked' "
        "WHERE ticket = 'Q-stamp'",
        "DELETE FROM feedback WHERE ticket = 'Q-stamp'",
    ),
    "survey_response": (
        "INSERT INTO survey_response (idempotency_key, survey, rating, comment, submitted_at, "
        "outbox_state) VALUES ('s-stamp', '测评', 'satisfied', '', '2026-06-15 09:00:00', "
        "'pending')",
        "UPDATE survey_response SET outbox_state = 'acked' WHERE idempotency_key = 's-stamp'",
        "DELETE FROM survey_response WHERE idempotency_key = 's-stamp'",
    ),
    "sync_state": (
        "INSERT INTO sync_state (key, value) VALUES ('stamp-test', '1')",
        "UPDATE sync_state SET value = '2' WHERE key = 'stamp-test'",
        "DELETE FROM sync_state WHERE key = 'stamp-test'",
    ),
    "audit_log": (
        "INSERT INTO audit_log (actor, action, entity, entity_uid, detail) "
        "VALUES ('test', 'note', 'disclosure', 'x', '{}')",
        "UPDATE audit_log SET detail = '{\"a\": 1}' WHERE actor = 'test'",
        "DELETE FROM audit_log WHERE actor = 'test'",
    ),
    "display_log": (
        "INSERT INTO display_log (board, item_uid, text, shown_from) "
        "VALUES ('hall', 'ann-water', '停水', '2026-06-15 08:00:00')",
        "UPDATE display_log SET shown_to = '2026-06-15 09:00:00' WHERE board = 'hall'",
        "DELETE FROM display_log WHERE board = 'hall'",
    ),
    "board_status": (
        "INSERT INTO board_status (board, state, consecutive_failures, preview_pages, "
        "updated_at) VALUES ('hall', 'ok', 0, 0, '2026-06-15 08:00:00')",
        "UPDATE board_status SET state = 'faulted', consecutive_failures = 3 "
        "WHERE board = 'hall'",
        "DELETE FROM board_status WHERE board = 'hall'",
    ),
    "search_doc": (
        "INSERT INTO search_doc (doc_type, doc_id, uid, category, superseded, title, "
        "initials, pinyin, body) VALUES ('service', 999, 'x', 'services', 0, 't', '', '', '')",
        "UPDATE search_doc SET title = 'u' WHERE doc_id = 999",
        "DELETE FROM search_doc WHERE doc_id = 999",
    ),
}

EXPECTED_TRIGGERS = {f"content_stamp_{t}_{e}" for t in CONTENT
                     for e in ("insert", "update", "delete")}


def token(cache: Cache) -> str:
    with cache.sessions() as s:
        return content_stamp(s)


def execute(engine: Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for sql in statements:
            conn.exec_driver_sql(sql)


def triggers(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {r[0] for r in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}


def cache_at(path: Path, revision: str) -> Engine:
    """A juwu cache migrated only as far as `revision`."""
    engine = make_engine(path)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
    upgrade(engine, revision)
    return engine


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_every_table_is_either_watched_or_not() -> None:
    # A new table must be put on one side: is it disclosed content (a trigger in a
    # migration and an entry in CONTENT) or not?
    assert set(Base.metadata.tables) == set(CONTENT) | set(NOT_CONTENT) | {"content_stamp"}


def test_a_new_cache_has_a_random_token_and_every_trigger(tmp_path: Path) -> None:
    a, b = open_cache(tmp_path / "a.sqlite3"), open_cache(tmp_path / "b.sqlite3")
    assert len(token(a)) == 32 and int(token(a), 16) >= 0
    assert token(a) != token(b)
    assert triggers(a.engine) == EXPECTED_TRIGGERS
    a.close()
    b.close()


@pytest.mark.parametrize("table", sorted(CONTENT))
def test_each_write_to_content_changes_the_token(loaded: Cache, table: str) -> None:
    setup, insert, update, delete = CONTENT[table]
    execute(loaded.engine, *setup)
    seen = [token(loaded)]
    for sql in (insert, update, delete):
        with loaded.engine.begin() as conn:
            assert conn.exec_driver_sql(sql).rowcount == 1
        seen.append(token(loaded))
    assert len(set(seen)) == 4, seen


@pytest.mark.parametrize("table", sorted(NOT_CONTENT))
def test_writes_to_other_tables_keep_the_token(loaded: Cache, table: str) -> None:
    before = token(loaded)
    for sql in NOT_CONTENT[table]:
        with loaded.engine.begin() as conn:
            assert conn.exec_driver_sql(sql).rowcount == 1
        assert token(loaded) == before


def test_a_rolled_back_write_keeps_the_token(loaded: Cache) -> None:
    before = token(loaded)
    with pytest.raises(RuntimeError), loaded.sessions.begin() as s:
        s.execute(text("DELETE FROM announcement"))
        raise RuntimeError("abandon")
    assert token(loaded) == before


def test_importing_new_content_changes_it_the_same_content_again_does_not(
        loaded: Cache, config: Config) -> None:
    before = token(loaded)
    load(loaded, config, mini())  # nothing new: the importer writes no content row
    assert token(loaded) == before
    content = mini()
    content["service"][0]["hours"] = "8:00-20:00"
    load(loaded, config, content)
    assert token(loaded) != before


def test_read_stamp_is_the_sessions_token_and_survives_reopening(loaded: Cache) -> None:
    path, before = loaded.path, token(loaded)
    assert read_stamp(path) == before
    loaded.close()
    assert read_stamp(path) == before
    again = open_cache(path)
    assert token(again) == before
    assert read_stamp(path) == before
    again.close()


def test_the_token_is_read_in_the_callers_transaction(loaded: Cache) -> None:
    with loaded.sessions() as s:
        first = content_stamp(s)
        count = s.scalar(select(func.count()).select_from(Disclosure))
        execute(loaded.engine, PARENT)  # another writer, committed meanwhile
        assert content_stamp(s) == first  # the session still sees the data it counted
        assert s.scalar(select(func.count()).select_from(Disclosure)) == count
    assert read_stamp(loaded.path) == token(loaded) != first


def test_read_stamp_of_a_missing_file_is_none_and_creates_nothing(tmp_path: Path) -> None:
    assert read_stamp(tmp_path / "cache.sqlite3") is None
    assert read_stamp(tmp_path / "no-such-dir" / "cache.sqlite3") is None
    assert read_stamp(tmp_path) is None  # a directory
    assert list(tmp_path.iterdir()) == []


def test_read_stamp_of_other_files_is_none_and_leaves_them(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.sqlite3"
    text_file.write_bytes(b"this is not a database, just some text\n" * 200)
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    foreign = tmp_path / "other.sqlite3"  # the right table, another program's database
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE content_stamp (id INTEGER PRIMARY KEY, token TEXT)")
        conn.execute("INSERT INTO content_stamp VALUES (1, 'abc')")
    conn.close()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for path in (text_file, empty, foreign):
        assert read_stamp(path) is None
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_read_stamp_of_a_damaged_cache_is_none(loaded: Cache) -> None:
    path = loaded.path
    loaded.close()
    data = bytearray(path.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)  # keep the header, smash the schema
    path.write_bytes(bytes(data))
    assert read_stamp(path) is None


def test_read_stamp_of_a_cache_before_0006_is_none(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    engine = cache_at(path, "0005")
    assert current_revision(engine) == "0005"
    assert read_stamp(path) is None
    engine.dispose()


def test_read_stamp_at_an_awkward_path(loaded: Cache, tmp_path: Path) -> None:
    before = token(loaded)
    loaded.close()
    odd = tmp_path / "居务 数据?#%20" / "cache.sqlite3"
    odd.parent.mkdir()
    shutil.copy(loaded.path, odd)
    assert read_stamp(odd) == before


def test_read_stamp_reads_beside_a_writer(loaded: Cache) -> None:
    before = token(loaded)
    writer = sqlite3.connect(loaded.path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM announcement")
        assert writer.execute("SELECT token FROM content_stamp").fetchone()[0] != before
        assert read_stamp(loaded.path) == before  # WAL: the last committed token, no wait
        writer.execute("COMMIT")
    finally:
        writer.close()
    after = read_stamp(loaded.path)
    assert after is not None and after != before
    assert after == token(loaded)


def test_read_stamp_gives_up_quickly_on_an_exclusive_lock(loaded: Cache) -> None:
    path = loaded.path
    loaded.close()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("DELETE FROM announcement")
        holder.execute("COMMIT")  # the exclusive lock is kept until the connection closes
        started = time.monotonic()
        assert read_stamp(path) is None
        assert time.monotonic() - started < 2
    finally:
        holder.close()
    assert read_stamp(path) is not None


def test_a_restored_backup_written_again_gets_a_token_it_never_had(loaded: Cache,
                                                                   config: Config) -> None:
    path = loaded.path
    with loaded.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    backup = path.with_name("backup.sqlite3")
    shutil.copy(path, backup)
    seen = {token(loaded)}
    execute(loaded.engine, PARENT)
    seen.add(token(loaded))
    loaded.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, path)
    restored = open_cache(path)
    assert token(restored) in seen
    execute(restored.engine, PARENT)  # the same write as before the restore
    assert token(restored) not in seen
    restored.close()


def test_upgrade_from_0005_with_content_and_downgrade(tmp_path: Path, config: Config) -> None:
    path = tmp_path / "cache.sqlite3"
    engine = cache_at(path, "0005")
    with sessionmaker(engine).begin() as s:
        import_content(s, RawContent.from_mapping(mini()), config)
    engine.dispose()

    cache = open_cache(path)
    assert current_revision(cache.engine) == head_revision() == "0006"
    assert triggers(cache.engine) == EXPECTED_TRIGGERS
    first = token(cache)
    assert read_stamp(path) == first
    with cache.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Disclosure)) == 6
    execute(cache.engine, "UPDATE service SET hours = '' WHERE uid = 'svc-repair'")
    assert token(cache) != first

    downgrade(cache.engine, "0005")
    assert current_revision(cache.engine) == "0005"
    assert triggers(cache.engine) == set()
    with cache.engine.connect() as conn:
        assert not conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'content_stamp'").first()
    execute(cache.engine, PARENT)  # content is still writable without the table
    assert read_stamp(path) is None
    with cache.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Disclosure)) == 7
    cache.close()

    again = open_cache(path)
    assert triggers(again.engine) == EXPECTED_TRIGGERS
    assert token(again) != first
    again.close()


def test_importing_content_stamp_does_not_import_sqlalchemy() -> None:
    probe = ("import sys, content.stamp; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy'))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]"
