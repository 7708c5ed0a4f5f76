"""board_status preview: a PNG of what each board was last confirmed showing

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 16:55:00

Two nullable/defaulted columns: a cache at 0004 upgrades with no previews until the
driver next confirms a frame.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('board_status', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preview_png', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('preview_pages', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('board_status', schema=None) as batch_op:
        batch_op.drop_column('preview_pages')
        batch_op.drop_column('preview_png')
