"""Apply the append-only migrations in ``migrations/versions`` (alembic).

Order matters and shipped migrations are never edited: a schema change is a
new file at the end, and :data:`HEAD` names it (a test checks that it is
alembic's head).

Migrating is explicit (issue 9): :func:`migrate` with ``existing=False``
gives a new database its schema but refuses an existing one that is out of
date (:class:`~lenta.exceptions.SchemaVersionError`), so that installing a
newer lenta does not change the schema under the processes still running
the old one; ``lenta migrate`` (or ``LENTA_MIGRATE=true``) passes
``existing=True``. Either way the whole upgrade runs in one transaction
that first takes a lock, and reads the revision again under it, so that
several processes starting together migrate once and the others find the
schema done:

- PostgreSQL: a transaction-level advisory lock (``pg_advisory_xact_lock``),
  released by the commit; alembic's DDL runs in the same transaction
  (PostgreSQL's DDL is transactional), so a failed migration leaves nothing.
- SQLite: ``BEGIN IMMEDIATE``, the database's write lock; a second migrator
  waits on the busy timeout and then sees the new revision.

Opening an up-to-date database only reads ``alembic_version``; alembic
itself is imported when there is something to migrate, which keeps every
``lenta`` command's start-up short.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import inspect
from sqlalchemy import text

from lenta.exceptions import SchemaVersionError

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
HEAD = "0013"
# Tables the migrations make but lenta.storage.schema does not describe: the
# full-text index (an FTS5 table and its shadow tables on SQLite; a tsvector
# table on PostgreSQL), written with SQL of its own (lenta.storage._search).
OUTSIDE_METADATA_PREFIX = "item_search"


def described(name: str | None, type_: str, parent_names: object) -> bool:
    """For alembic's ``include_name``: whether the schema module describes
    this table (comparing the database with it skips the others)."""
    return not (type_ == "table" and name is not None and name.startswith(OUTSIDE_METADATA_PREFIX))


# Any constant shared by every lenta: the lock is per database, so lentas in
# different schemas of one database wait for each other's migrations too (rare, harmless).
ADVISORY_LOCK_KEY = 0x6C656E74614D6967  # "lentaMig"


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """What :func:`migrate` did: from ``before`` (None: a new database) to ``after``."""

    before: str | None
    after: str


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """Alembic's head, read from the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The database's revision; None for a database lenta never migrated."""
    with engine.connect() as connection:
        return _revision(connection)


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    revision: str | None = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return revision


def _known(revision: str) -> bool:
    """Whether ``revision`` is one of this lenta's migrations (not a later lenta's)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def migrate(engine: Engine, *, existing: bool = True) -> SchemaChange | None:
    """Bring the database to :data:`HEAD` under a lock (see the module's
    docstring); None when it was there already.

    Args:
        existing: also migrate a database that has a schema already; if
            False only a new one is given its schema.

    Raises:
        SchemaVersionError: the schema is newer than this lenta knows, or
            older and ``existing`` is False.
    """
    if current_revision(engine) == HEAD:  # the usual case: no lock, no alembic
        return None
    with engine.connect() as connection, _locked(connection):
        current = _revision(connection)  # again: another process may have migrated meanwhile
        if current == HEAD:
            return None
        if current is not None and not _known(current):
            raise SchemaVersionError(current, HEAD, newer=True)
        if current is not None and not existing:
            raise SchemaVersionError(current, HEAD)
        from alembic import command

        config = alembic_config()
        # Inside our transaction alembic opens none of its own (env.py's
        # begin_transaction sees an external one), so the lock covers every migration.
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    fields = {"event": "schema_migrated", "before": current, "after": HEAD}
    if current is None:  # the first use of a database, no news (`lenta migrate` says it itself)
        log.debug("database schema created (revision %s)", HEAD, extra=fields)
    else:
        log.info("database schema migrated from revision %s to %s", current, HEAD, extra=fields)
    return SchemaChange(current, HEAD)


@contextmanager
def _locked(connection: Connection) -> Iterator[None]:
    """One transaction holding the migration lock; committed on success."""
    if connection.dialect.name == "sqlite":
        # lenta's engines begin SQLite transactions as this option says (storage._base).
        connection = connection.execution_options(sqlite_begin="IMMEDIATE")
    with connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        yield
