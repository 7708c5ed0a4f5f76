"""Index hub_feedback.submitted_at: `juwu hub inbox` lists by it, and a district's hub
holds years of feedback.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hub_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_hub_feedback_submitted_at", ["submitted_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hub_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_hub_feedback_submitted_at")
