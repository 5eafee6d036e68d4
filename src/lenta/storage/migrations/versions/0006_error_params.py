"""Errors for every language: feeds.error_params, fetch_log.error_params and
websub_subscriptions.error_params hold an error's catalog message and its
arguments (JSON), beside the English text in ``error``

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch rebuild: on SQLite that would drop feeds, cascading to items).
    # Rows already there keep NULL: pages show their kind's label, and their
    # English text in English, until the feed's next fetch stores both.
    op.add_column("feeds", sa.Column("error_params", sa.Text(), nullable=True))
    op.add_column("fetch_log", sa.Column("error_params", sa.Text(), nullable=True))
    op.add_column("websub_subscriptions", sa.Column("error_params", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("websub_subscriptions", "error_params")
    op.drop_column("fetch_log", "error_params")
    op.drop_column("feeds", "error_params")
