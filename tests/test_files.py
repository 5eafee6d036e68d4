"""The database file, its -wal and -shm companions and the folders lenta
makes for them are owner-only whatever the umask; an existing file others
can read is reported at start."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from lenta.config import load_settings
from lenta.core import make_lenta
from lenta.storage import open_storage


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o002, 0o000])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    yield int(request.param)
    os.umask(previous)


def test_a_new_database_and_its_folders_are_owner_only(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "data" / "lenta" / "lenta.sqlite"
    lenta = make_lenta(load_settings({}, db=str(path)))
    try:
        lenta.add_user("admin", "a long enough password", is_admin=True)  # a write: the WAL exists now
        wal, shm = path.with_name("lenta.sqlite-wal"), path.with_name("lenta.sqlite-shm")
        assert wal.exists() and shm.exists()
        assert {p.name: mode(p) for p in (path, wal, shm)} == {p.name: 0o600 for p in (path, wal, shm)}
        assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    finally:
        lenta.close()
    assert mode(tmp_path) == stat.S_IMODE(tmp_path.stat().st_mode)  # a folder that was there is left alone


def test_an_existing_readable_database_is_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "shared.sqlite"
    open_storage(str(path)).close()
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING, logger="lenta.storage"):
        storage = open_storage(str(path))
    storage.close()
    assert mode(path) == 0o644  # reported, not changed behind the operator's back
    assert any(f"{path} can be read by other users (mode 0644)" in w for w in storage.db.warnings)
    assert f"chmod 600 {path}" in caplog.text
