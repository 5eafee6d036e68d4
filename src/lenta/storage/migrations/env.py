"""Alembic environment: lenta runs migrations itself (see lenta.storage.migrate),
handing the connection in ``config.attributes["connection"]``."""

from __future__ import annotations

from alembic import context

from lenta.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
    render_as_batch=True,
    # Each migration commits together with its version row. lenta.storage.migrate
    # hands over a connection already in its (locked) transaction: then alembic opens
    # none and every migration commits with that one.
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
