"""What sync APIs ask for: item_states.changed_at, subscriptions.read_through_at
("changed since"), api_credentials.fever_key (Fever's md5 key of an app password)

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs and an index (no batch rebuild of tables that hold a reader's state).
    op.add_column("api_credentials", sa.Column("fever_key", sa.String(length=32), nullable=True))
    op.create_index(op.f("ix_api_credentials_fever_key"), "api_credentials", ["fever_key"], unique=True)
    op.add_column("item_states", sa.Column("changed_at", sa.DateTime(), nullable=True))
    op.add_column("subscriptions", sa.Column("read_through_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("subscriptions", "read_through_at")
    op.drop_column("item_states", "changed_at")
    op.drop_index(op.f("ix_api_credentials_fever_key"), table_name="api_credentials")
    op.drop_column("api_credentials", "fever_key")
