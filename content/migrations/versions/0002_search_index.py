"""search index: search_doc plus the trigram and per-character FTS5 tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Existing content is indexed here, so a cache written by the first schema becomes
searchable on upgrade without a re-sync.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FTS_COLUMNS = "title, initials, pinyin, body"


def upgrade() -> None:
    op.create_table(
        "search_doc",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=16), nullable=False),
        sa.Column("doc_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("publish_on", sa.Date(), nullable=True),
        sa.Column("take_down_on", sa.Date(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("initials", sa.String(length=300), nullable=False),
        sa.Column("pinyin", sa.String(length=2000), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("doc_type", "doc_id"),
    )
    # Contentless: the text lives once, in search_doc; the FTS tables hold only the index.
    op.execute(
        f"CREATE VIRTUAL TABLE search_tri USING fts5({FTS_COLUMNS}, "
        "tokenize='trigram', content='', detail='full')"
    )
    op.execute(
        f"CREATE VIRTUAL TABLE search_uni USING fts5({FTS_COLUMNS}, "
        "tokenize='unicode61 remove_diacritics 0', content='', detail='full')"
    )
    from content.search_index import rebuild

    session = Session(bind=op.get_bind())
    rebuild(session)
    session.flush()


def downgrade() -> None:
    op.execute("DROP TABLE search_uni")
    op.execute("DROP TABLE search_tri")
    op.drop_table("search_doc")
