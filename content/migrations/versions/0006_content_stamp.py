"""content_stamp: a token the database itself changes on every write to disclosed content

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00

The kiosk draws home from a saved snapshot before it imports SQLAlchemy, but only while the
cache's content is still what the snapshot was read from; content.stamp reads this token
with the sqlite3 module alone. Triggers rather than application code, so that every writer
(import, sync, demo-data, a person with the sqlite3 shell) changes it, in the same
transaction as the write. A random token rather than a counter: a cache restored from an
older backup and written again must never reach a token it had before with other content.

Only the tables the kiosk and the boards show are watched; residents' input, sync and board
state, the audit log and the search index (derived from the watched tables) are not. A
later migration that changes a watched table by DDL (a new column and its default) must
set a new token itself; one that recreates a watched table (batch mode) drops its triggers
and must create them again (tests/test_content_stamp.py checks they are all there).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

CONTENT_TABLES = ('community', 'disclosure', 'sign_off', 'attachment', 'finance_statement',
                  'finance_line', 'service', 'announcement')
EVENTS = ('insert', 'update', 'delete')
NEW_TOKEN = "UPDATE content_stamp SET token = lower(hex(randomblob(16))) WHERE id = 1"


def trigger_name(table: str, event: str) -> str:
    return f'content_stamp_{table}_{event}'


def upgrade() -> None:
    op.create_table('content_stamp',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.CheckConstraint('id = 1', name='single_row'),
    sa.PrimaryKeyConstraint('id')
    )
    op.execute("INSERT INTO content_stamp (id, token) VALUES (1, lower(hex(randomblob(16))))")
    for table in CONTENT_TABLES:
        for event in EVENTS:
            op.execute(f"CREATE TRIGGER {trigger_name(table, event)} "
                       f"AFTER {event.upper()} ON {table} BEGIN {NEW_TOKEN}; END")


def downgrade() -> None:
    for table in CONTENT_TABLES:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger_name(table, event)}")
    op.drop_table('content_stamp')
