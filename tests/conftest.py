"""Shared fixtures: settings and a facade on a real SQLite file, a storage
fixture run against every backend (PostgreSQL when configured), the
corpus location."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpserver import LocalServer

from lenta.config import Settings
from lenta.config import load_settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.logs import QUIET_LIBRARIES
from lenta.logs import StderrHandler
from lenta.storage import Storage
from lenta.storage import open_storage

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("LENTA_CORPUS", REPO.parent / "shared" / "corpus"))
SEED = Path(os.environ.get("LENTA_SEED", REPO.parent / "shared" / "seed" / "aggregator-page-10.ru.txt"))
POSTGRES_URL = os.environ.get("LENTA_TEST_POSTGRES_URL", "")
NO_POSTGRES = (
    "PostgreSQL tests need a server: set LENTA_TEST_POSTGRES_URL, e.g. "
    "postgresql://postgres@127.0.0.1:5432/test (.ci/run sets it)"
)


def corpus_dir(name: str) -> Path:
    path = CORPUS / name
    if not path.is_dir():
        pytest.skip(f"the shared corpus is not at {path} (set LENTA_CORPUS)")
    return path


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """A command run in this process (click's CliRunner) sets up logging for
    the process (:func:`lenta.logs.configure_logging`); undo it after each
    test, so that no test sees another's levels or handlers."""
    import logging

    root = logging.getLogger()
    loggers = [root, *(logging.getLogger(name) for name in QUIET_LIBRARIES)]
    levels = [logger.level for logger in loggers]
    yield
    for logger, level in zip(loggers, levels):
        logger.setLevel(level)
    for handler in root.handlers[:]:  # pytest's own handlers come and go with each phase: left alone
        if isinstance(handler, StderrHandler):
            root.removeHandler(handler)


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (``@pytest.mark.anyio``) run on asyncio."""
    return "asyncio"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """A local HTTP server with no routes yet (tests add them)."""
    with LocalServer() as local:
        yield local


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a test: a fresh SQLite file, 127.0.0.1 allowed, no scheduler; the site answers to
    the local names and to Starlette's TestClient ("testserver")."""
    return load_settings(
        {},
        db=str(tmp_path / "lenta.sqlite"),
        fetch_allow="127.0.0.1,::1",
        scheduler=False,
        fetch_timeout=5.0,
        fetch_deadline=10.0,
        host_interval=0.0,
        allowed_hosts="localhost,127.0.0.1,::1,testserver",
    )


@pytest.fixture
def lenta(settings: Settings) -> Iterator[Lenta]:
    instance = make_lenta(settings)
    yield instance
    instance.close()


@pytest.fixture
def lenta_storage(lenta: Lenta, settings: Settings) -> Iterator[Storage]:
    """The database under the ``lenta`` fixture, opened again, for the few
    tests that must reach below the facade, which keeps its engines to
    itself: rows no refresh would store (hostile URLs, thousands of items
    at once), tables no method shows (sessions, sign-in failures)."""
    instance = open_storage(settings.database)
    yield instance
    instance.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    with fresh_postgres_schema() as url:
        yield url


@contextlib.contextmanager
def fresh_postgres_schema() -> Iterator[str]:
    """:func:`postgres_url` for fixtures of any scope."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    import psycopg

    schema = f"lenta_test_{uuid.uuid4().hex[:12]}"
    conninfo = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "contract.sqlite")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def storage(backend_url: str) -> Iterator[Storage]:
    instance = open_storage(backend_url)
    yield instance
    instance.close()
