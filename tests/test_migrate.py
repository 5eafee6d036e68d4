"""Explicit migrations (issue 9), on SQLite and PostgreSQL, with real
processes: `lenta migrate` gives a new database its schema and brings an old
one up to date; every other command gives a new database its schema but
refuses an out-of-date one, unless told to migrate (`--migrate`,
LENTA_MIGRATE=true); several `lenta migrate` at once migrate once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from conftest import fresh_postgres_schema
from httpserver import free_port
from sqlalchemy import text

from lenta.exceptions import SchemaVersionError
from lenta.storage import open_storage
from lenta.storage.migrate import HEAD
from lenta.storage.migrate import SchemaChange
from lenta.storage.migrate import alembic_config
from lenta.storage.migrate import current_revision
from lenta.storage.migrate import described
from lenta.storage.schema import metadata

OLD = "0003"
REFUSED = f"out of date (revision {OLD}; this lenta needs {HEAD}): run `lenta migrate`"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database lenta has never opened: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield str(tmp_path / "lenta.sqlite")
        return
    with fresh_postgres_schema() as url:
        yield url


def make_old(database: str, revision: str = OLD) -> None:
    """Give ``database`` lenta's schema as it was at ``revision``, and a feed."""
    from alembic import command

    storage = open_storage(database, migrate=False)
    config = alembic_config()
    try:
        with storage.db.engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.execute(
                text(
                    "INSERT INTO feeds (url, created_at, error_count, gone) "
                    "VALUES ('https://example.com/feed', '2026-01-01', 0, false)"
                )
            )
            connection.commit()
    finally:
        storage.close()


def revision_of(database: str) -> str | None:
    storage = open_storage(database, migrate=False)
    try:
        return current_revision(storage.db.engine)
    finally:
        storage.close()


def lenta(database: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "LENTA_DB": database, **env}
    return subprocess.run(
        [sys.executable, "-m", "lenta", *args], env=environ, capture_output=True, text=True, timeout=120, check=False
    )


def test_lenta_migrate_creates_a_schema_then_finds_it_up_to_date(new_database: str) -> None:
    created = lenta(new_database, "migrate")
    again = lenta(new_database, "migrate")
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith(f"Created the schema (revision {HEAD}) in ")
    assert again.returncode == 0 and again.stdout.startswith("The schema of ") and "is up to date" in again.stdout
    assert revision_of(new_database) == HEAD


def test_a_new_database_is_given_its_schema_by_any_command(new_database: str) -> None:
    listed = lenta(new_database, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "[]"
    assert revision_of(new_database) == HEAD


def test_an_old_schema_is_refused_until_lenta_migrate(new_database: str) -> None:
    make_old(new_database)
    refusals = [
        lenta(new_database, "list"),
        lenta(new_database, "refresh"),
        lenta(new_database, "worker"),
        lenta(new_database, "serve", "--port", str(free_port())),
    ]
    for refused in refusals:
        assert refused.returncode == 1, (refused.args, refused.stdout, refused.stderr)
        assert f"Error: The database's schema is {REFUSED}" in refused.stderr
        assert "--migrate" in refused.stderr and "LENTA_MIGRATE=true" in refused.stderr
    assert revision_of(new_database) == OLD  # refused, and left alone

    migrated = lenta(new_database, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.startswith("Migrated ") and f"from revision {OLD} to {HEAD}." in migrated.stdout
    assert f"database schema migrated from revision {OLD} to {HEAD}" in migrated.stderr  # the log line
    listed = lenta(new_database, "list")
    assert listed.returncode == 0 and "https://example.com/feed" in listed.stdout
    assert revision_of(new_database) == HEAD


def test_lenta_migrate_true_migrates_an_old_schema_on_open(new_database: str) -> None:
    make_old(new_database)
    listed = lenta(new_database, "list", LENTA_MIGRATE="true")
    assert listed.returncode == 0, listed.stderr
    assert "https://example.com/feed" in listed.stdout
    assert revision_of(new_database) == HEAD


def test_worker_with_migrate_migrates_then_runs(new_database: str) -> None:
    make_old(new_database)
    environ = {**os.environ, "LENTA_DB": new_database, "LENTA_SCHEDULER_TICK": "0.2"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "lenta", "worker", "--migrate"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while revision_of(new_database) != HEAD and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # a tick or two after it migrated: still running
        assert worker.poll() is None, worker.communicate()
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=30)
    assert worker.returncode == 0, errors
    assert revision_of(new_database) == HEAD


def test_serve_with_lenta_migrate_migrates_then_serves(tmp_path: Path) -> None:
    from test_serve import lenta_serve

    database = str(tmp_path / "old.sqlite")
    make_old(database)
    with lenta_serve(database, LENTA_MIGRATE="true") as (port, _):
        import httpx

        assert httpx.get(f"http://127.0.0.1:{port}/aggregator/sources").status_code == 200
    assert revision_of(database) == HEAD


def test_a_schema_newer_than_this_lenta_is_refused(tmp_path: Path) -> None:
    database = str(tmp_path / "lenta.sqlite")
    open_storage(database).close()
    storage = open_storage(database, migrate=False)
    with storage.db.write() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    storage.close()
    for command in (["list"], ["migrate"], ["worker", "--migrate"]):
        refused = lenta(database, *command)
        assert refused.returncode == 1, command
        assert f"schema (revision 0999) is newer than this lenta knows (up to {HEAD})" in refused.stderr


def test_open_storage_migrates_a_new_database_and_an_old_one_only_when_asked(new_database: str, tmp_path: Path) -> None:
    make_old(new_database)
    with pytest.raises(SchemaVersionError) as refused:
        open_storage(new_database)
    assert (refused.value.current, refused.value.head, refused.value.newer) == (OLD, HEAD, False)
    storage = open_storage(new_database, migrate=True)
    assert storage.migration == SchemaChange(OLD, HEAD)
    storage.close()
    fresh = open_storage(str(tmp_path / "fresh.sqlite"))
    assert fresh.migration == SchemaChange(None, HEAD)
    fresh.close()
    again = open_storage(str(tmp_path / "fresh.sqlite"))
    assert again.migration is None
    again.close()


@pytest.mark.parametrize("start", ["new", "old"])
def test_processes_migrating_at_once_migrate_once(new_database: str, start: str) -> None:
    if start == "old":
        make_old(new_database, "0001")
    environ = {**os.environ, "LENTA_DB": new_database}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "lenta", "migrate"], env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    results = [(process.wait(timeout=120), *process.communicate()) for process in processes]
    assert [code for code, _, _ in results] == [0] * 4, results
    outputs = sorted(out.split(" ", 1)[0] for _, out, _ in results)
    done = "Created" if start == "new" else "Migrated"
    assert outputs == [done, "The", "The", "The"], results  # one migrated; the others found it done
    storage = open_storage(new_database, migrate=False)
    try:
        with storage.db.engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]
            from alembic.autogenerate import compare_metadata

            assert compare_metadata(MigrationContext.configure(connection, opts={"include_name": described}), metadata) == []
    finally:
        storage.close()


def test_lenta_migrate_in_process(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from lenta.cli import main

    database = str(tmp_path / "old.sqlite")
    make_old(database)
    runner = CliRunner()
    refused = runner.invoke(main, ["worker"], env={"LENTA_DB": database})
    migrated = runner.invoke(main, ["migrate"], env={"LENTA_DB": database})
    again = runner.invoke(main, ["migrate"], env={"LENTA_DB": database})
    assert refused.exit_code == 1 and REFUSED in refused.output
    assert migrated.exit_code == 0 and f"Migrated {database} from revision {OLD} to {HEAD}." in migrated.stdout
    assert again.exit_code == 0 and again.stdout == f"The schema of {database} is up to date.\n"
