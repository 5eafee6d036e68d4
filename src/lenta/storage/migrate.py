"""Apply the append-only migrations in ``migrations/versions`` (alembic).

Order matters and shipped migrations are never edited: a schema change is a
new file at the end, and :data:`HEAD` names it (a test checks that it is
alembic's head). Each migration commits with its version row
(``transaction_per_migration`` in env.py).

Opening an up-to-date database only reads ``alembic_version``; alembic
itself is imported when there is something to migrate, which keeps every
``lenta`` command's start-up short.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy import inspect
from sqlalchemy import text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
HEAD = "0004"


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
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> bool:
    """Bring the database to the newest schema. Returns True if anything ran."""
    if current_revision(engine) == HEAD:
        return False
    from alembic import command

    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
    return True
