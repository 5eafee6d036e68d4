"""Engines, transactions and driver-error translation, for both backends.

``Database`` owns the SQLAlchemy engine. Reads use :meth:`Database.read`,
writes :meth:`Database.write`; both translate driver errors into
:class:`lenta.exceptions.StorageError` at this one boundary (domain errors
such as FeedExistsError are raised by the per-domain modules, which catch
IntegrityError right where it happens).

SQLite specifics: WAL, foreign keys, a busy timeout, and ``BEGIN
IMMEDIATE`` for writes so that two writers queue on the busy timeout
instead of failing on a read→write lock upgrade.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from lenta.config import display_database
from lenta.exceptions import InvalidInputError
from lenta.exceptions import LentaError
from lenta.exceptions import StorageError
from lenta.storage._files import prepare_sqlite_file

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_PAGE_SIZE = 16_384
SQLITE_CACHE_KIB = 16_384  # per connection


def database_url(target: str) -> str:
    """Turn the --db / LENTA_DB value into a SQLAlchemy URL.

    A plain path is a SQLite file; ``sqlite:///…`` and ``postgresql://…``
    URLs are taken as they are (PostgreSQL through psycopg 3, the ``postgres``
    extra).
    """
    if "://" not in target:
        path = Path(target).expanduser().resolve()
        return f"sqlite:///{path}"
    scheme = target.split("://", 1)[0].lower()
    if scheme == "sqlite":
        return target
    if scheme in {"postgresql", "postgres"}:
        return "postgresql+psycopg://" + target.split("://", 1)[1]
    if scheme.startswith("postgresql+"):
        return target
    raise InvalidInputError(
        "Unsupported database {target}: use a file path, sqlite:///PATH or postgresql://…", target=display_database(target)
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Only a new database takes it, and only before its first write (WAL
        # mode writes the header): items are a few KB of HTML each, which on
        # 4 KB pages nearly all spill into overflow pages; 16 KB pages hold
        # them, and a refresh writes with less CPU (bench/README.md).
        cursor.execute(f"PRAGMA page_size = {SQLITE_PAGE_SIZE}")
        # SQLite's default cache is 2 MB: 125 of those pages, fewer than the
        # items' indexes of a grown database need, and a refresh's writer
        # re-read index pages for every batch (bench/README.md). Pages are
        # only cached as they are read.
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """One engine and its transaction helpers."""

    def __init__(self, target: str) -> None:
        self.target = target  # as given: worker processes reopen the database from it
        self.warnings: list[str] = []  # about the database file's permissions, for the operator
        try:
            url = make_url(database_url(target))
        except (sa_exc.ArgumentError, ValueError):  # a port that is no number, an unclosed [IPv6 address]...
            raise InvalidInputError(
                "The database {target} is not a file path, sqlite:///PATH or postgresql://… URL.",
                target=display_database(target),
            ) from None
        self.dialect = url.get_backend_name()
        if self.dialect == "sqlite":
            if not url.database:  # SQLite would open a private in-memory database, gone at exit
                raise InvalidInputError("The database {target} names no file: use sqlite:///PATH.", target=target)
            if url.database != ":memory:" and not url.database.startswith("file:"):
                if Path(url.database).is_dir():
                    raise InvalidInputError("The database {path} is a folder, not a file.", path=url.database)
                try:
                    self.warnings = prepare_sqlite_file(Path(url.database))
                except OSError as error:
                    raise InvalidInputError(
                        "Cannot create the database file {path}: {reason}.",
                        path=url.database,
                        reason=error.strerror or type(error).__name__,
                    ) from None
            self.engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
            _configure_sqlite(self.engine)
        elif self.dialect == "postgresql":
            try:
                self.engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
            except ImportError as error:
                # psycopg is an extra (`lenta[postgres]`): the SQLite default needs no driver.
                raise InvalidInputError(
                    "PostgreSQL needs the driver: pip install 'lenta[postgres]' ({error})", error=error
                ) from None
        else:
            raise InvalidInputError("Unsupported database backend {name}", name=self.dialect)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a (deferred) transaction, for reads."""
        with translate_errors(), self.engine.connect() as connection:
            with connection.begin():
                yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on error."""
        with translate_errors(), self.engine.connect() as connection:
            if self.is_sqlite:
                connection = connection.execution_options(sqlite_begin="IMMEDIATE")
            with connection.begin():
                yield connection

    def after_fork(self) -> None:
        """In a forked child: forget the parent's pooled connections without
        closing them (they are the parent's), so the child opens its own."""
        self.engine.dispose(close=False)

    def close(self) -> None:
        self.engine.dispose()


@contextmanager
def translate_errors() -> Iterator[None]:
    """The choke point: driver errors become StorageError; lenta's own pass."""
    try:
        yield
    except LentaError:
        raise
    except sa_exc.SQLAlchemyError as exc:
        raise StorageError("Database error: {error}", error=_describe(exc)) from exc


def _describe(exc: sa_exc.SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None)
    return str(original if original is not None else exc).splitlines()[0]
