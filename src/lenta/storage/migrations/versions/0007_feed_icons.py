"""Feed icons: feed_icons holds each feed's icon (fetched weekly, served by
lenta from its own URL)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_icons",
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("media_type", sa.String(length=32), nullable=True),
        sa.Column("digest", sa.String(length=16), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.id"], name=op.f("fk_feed_icons_feed_id_feeds"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("feed_id", name=op.f("pk_feed_icons")),
    )


def downgrade() -> None:
    op.drop_table("feed_icons")
