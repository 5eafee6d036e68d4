"""Hardening: feed credentials apart from URLs, server-side sessions, login
throttling, what a fetch cut (fetch_log.dropped_items, fetch_log.cut_fields)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Written out here rather than imported: a migration must keep doing what it
# did when it shipped, whatever later code does.
_USERINFO_IN_TEXT = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@]*@")


def _split(url: str) -> tuple[str, str | None]:
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url, None
    return urlunsplit(parts._replace(netloc=hostport)), userinfo or None


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch rebuild: on SQLite that would drop feeds, cascading to items).
    op.add_column("feeds", sa.Column("credentials", sa.Text(), nullable=True))
    op.add_column("fetch_log", sa.Column("dropped_items", sa.Integer(), server_default="0", nullable=False))
    op.add_column("fetch_log", sa.Column("cut_fields", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("messages", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_user_id"), "sessions", ["user_id"], unique=False)
    op.create_index(op.f("ix_sessions_expires_at"), "sessions", ["expires_at"], unique=False)
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_failures")),
    )
    op.create_index(op.f("ix_login_failures_last_at"), "login_failures", ["last_at"], unique=False)

    # Credentials already in stored URLs move to their column; error texts lose them.
    connection = op.get_bind()
    feeds = sa.table(
        "feeds",
        sa.column("id", sa.Integer),
        sa.column("url", sa.Text),
        sa.column("credentials", sa.Text),
        sa.column("error", sa.Text),
    )
    fetch_log = sa.table("fetch_log", sa.column("id", sa.Integer), sa.column("error", sa.Text))
    taken = {row.url for row in connection.execute(sa.select(feeds.c.url))}
    for row in connection.execute(sa.select(feeds.c.id, feeds.c.url).where(feeds.c.url.like("%@%"))).all():
        url, userinfo = _split(row.url)
        if userinfo is None or url in taken:
            continue  # no credentials; or another feed has the bare URL: left as it was
        taken.add(url)
        connection.execute(sa.update(feeds).where(feeds.c.id == row.id).values(url=url, credentials=userinfo))
    for table in (feeds, fetch_log):
        for row in connection.execute(sa.select(table.c.id, table.c.error).where(table.c.error.like("%@%"))).all():
            clean = _USERINFO_IN_TEXT.sub(lambda match: f"{match.group(1)}***@", row.error)
            if clean != row.error:
                connection.execute(sa.update(table).where(table.c.id == row.id).values(error=clean))


def downgrade() -> None:
    op.drop_index(op.f("ix_login_failures_last_at"), table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index(op.f("ix_sessions_expires_at"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_user_id"), table_name="sessions")
    op.drop_table("sessions")
    op.drop_column("fetch_log", "cut_fields")
    op.drop_column("fetch_log", "dropped_items")
    op.drop_column("feeds", "credentials")
