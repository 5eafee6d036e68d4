"""category_items: each category's items by date, filed from the items and
categories already there

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "category_items",
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.DateTime(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_category_items_category_id_categories"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_category_items_item_id_items"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("category_id", "date", "item_id", name=op.f("pk_category_items")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_category_items_item_id"), "category_items", ["item_id"], unique=False)
    op.execute(
        "INSERT INTO category_items (category_id, date, item_id) "
        "SELECT m.category_id, i.date, i.id FROM items i JOIN feed_categories m ON m.feed_id = i.feed_id"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_category_items_item_id"), table_name="category_items")
    op.drop_table("category_items")
