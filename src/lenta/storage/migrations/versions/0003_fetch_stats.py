"""fetch_stats: cumulative fetch counts and durations by outcome

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BUCKETS = ("le_0_05", "le_0_1", "le_0_25", "le_0_5", "le_1_0", "le_2_5", "le_5_0", "le_10_0", "le_30_0", "le_60_0")


def upgrade() -> None:
    op.create_table(
        "fetch_stats",
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("seconds", sa.Float(), server_default="0", nullable=False),
        *(sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in BUCKETS),
        sa.PrimaryKeyConstraint("outcome", name=op.f("pk_fetch_stats")),
    )


def downgrade() -> None:
    op.drop_table("fetch_stats")
