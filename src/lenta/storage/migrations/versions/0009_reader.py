"""The personal reader: subscriptions, folders, item states; feeds.published
(the public pages show published feeds only) and items by (feed_id, id)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch rebuild: on SQLite that would drop feeds,
    # cascading to items). Every feed there is the admin's, so published.
    op.add_column("feeds", sa.Column("published", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_index(op.f("ix_items_feed_id_id"), "items", ["feed_id", "id"], unique=False)
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_through", sa.Integer(), server_default="0", nullable=False),
        sa.Column("unread", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.id"], name=op.f("fk_subscriptions_feed_id_feeds"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_subscriptions_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint("user_id", "feed_id", name=op.f("uq_subscriptions_user_id_feed_id")),
    )
    op.create_index(op.f("ix_subscriptions_feed_id"), "subscriptions", ["feed_id"], unique=False)
    op.create_table(
        "folders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["folders.id"], name=op.f("fk_folders_parent_id_folders"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_folders_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_folders")),
    )
    op.create_index(op.f("ix_folders_user_id_parent_id"), "folders", ["user_id", "parent_id"], unique=False)
    op.create_table(
        "subscription_folders",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("folder_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["folder_id"], ["folders.id"], name=op.f("fk_subscription_folders_folder_id_folders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_folders_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscription_id", "folder_id", name=op.f("pk_subscription_folders")),
    )
    op.create_index(op.f("ix_subscription_folders_folder_id"), "subscription_folders", ["folder_id"], unique=False)
    op.create_table(
        "item_states",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("read", sa.Boolean(), nullable=True),
        sa.Column("starred_at", sa.DateTime(), nullable=True),
        sa.Column("date", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_item_states_item_id_items"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_item_states_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "item_id", name=op.f("pk_item_states")),
    )
    op.create_index(op.f("ix_item_states_item_id"), "item_states", ["item_id"], unique=False)
    op.create_index(op.f("ix_item_states_user_id_date_item_id"), "item_states", ["user_id", "date", "item_id"], unique=False)
    op.create_index(
        op.f("ix_item_states_user_id_feed_id_item_id"), "item_states", ["user_id", "feed_id", "item_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("item_states")
    op.drop_table("subscription_folders")
    op.drop_table("folders")
    op.drop_table("subscriptions")
    op.drop_index(op.f("ix_items_feed_id_id"), table_name="items")
    op.drop_column("feeds", "published")
