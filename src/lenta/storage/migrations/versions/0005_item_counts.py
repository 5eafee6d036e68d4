"""Item counts per time bucket (item_counts, feed_item_counts,
category_item_counts), backfilled from the items there are

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Written out here rather than imported: a migration must keep doing what it
# did when it shipped, whatever later code does (lenta.storage._counts).
FINE_SHIFT = 12
COARSE_SHIFT = 20
TOTAL, COARSE, FINE = 0, 1, 2


def _fine_bucket(dialect: str) -> str:
    """SQL for floor(seconds since 1970 of items.date / 2**FINE_SHIFT), as
    lenta.storage._counts.fine_bucket computes it, before 1970 too: the
    fraction of a second dropped from the calendar time (SQLite's date
    functions would round it to the millisecond, 59.9999 s up to the next
    minute; the text is 'YYYY-MM-DD HH:MM:SS.ffffff'), then seconds since 1970
    and an arithmetic shift (both backends' >> keep the sign)."""
    if dialect == "sqlite":
        return f"(CAST(strftime('%s', substr(date, 1, 19)) AS INTEGER) >> {FINE_SHIFT})"
    return f"(CAST(EXTRACT(EPOCH FROM date_trunc('second', date)) AS BIGINT) >> {FINE_SHIFT})"


def upgrade() -> None:
    op.create_table(
        "item_counts",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("level", "bucket", name=op.f("pk_item_counts")),
    )
    op.create_table(
        "feed_item_counts",
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.id"], name=op.f("fk_feed_item_counts_feed_id_feeds"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("feed_id", "level", "bucket", name=op.f("pk_feed_item_counts")),
    )
    op.create_table(
        "category_item_counts",
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_category_item_counts_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("category_id", "level", "bucket", name=op.f("pk_category_item_counts")),
    )

    # The counts of the items already stored: each feed's fine buckets from
    # the items (one pass over the (feed_id, date, id) index), the rest summed from those.
    connection = op.get_bind()
    span = COARSE_SHIFT - FINE_SHIFT
    for statement in (
        f"INSERT INTO feed_item_counts (feed_id, level, bucket, n) "
        f"SELECT feed_id, {FINE}, {_fine_bucket(connection.dialect.name)} AS fine, count(*) "
        f"FROM items GROUP BY feed_id, fine",
        f"INSERT INTO feed_item_counts (feed_id, level, bucket, n) "
        f"SELECT feed_id, {COARSE}, bucket >> {span} AS coarse, sum(n) "
        f"FROM feed_item_counts WHERE level = {FINE} GROUP BY feed_id, coarse",
        f"INSERT INTO feed_item_counts (feed_id, level, bucket, n) "
        f"SELECT feed_id, {TOTAL}, 0, sum(n) FROM feed_item_counts WHERE level = {FINE} GROUP BY feed_id",
        "INSERT INTO item_counts (level, bucket, n) SELECT level, bucket, sum(n) FROM feed_item_counts GROUP BY level, bucket",
        "INSERT INTO category_item_counts (category_id, level, bucket, n) "
        "SELECT m.category_id, c.level, c.bucket, sum(c.n) "
        "FROM feed_item_counts c JOIN feed_categories m ON m.feed_id = c.feed_id "
        "GROUP BY m.category_id, c.level, c.bucket",
    ):
        connection.execute(sa.text(statement))


def downgrade() -> None:
    op.drop_table("category_item_counts")
    op.drop_table("feed_item_counts")
    op.drop_table("item_counts")
