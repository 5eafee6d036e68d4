"""The SQLite file and its folder: owner-only, whatever the umask.

The database holds password hashes, sessions, feed credentials and (unless
``LENTA_SECRET_KEY`` is set) the key that signs cookies. SQLite creates a
new file with the process's umask (0644 under the usual 022), and its
``-wal`` and ``-shm`` companions with the database file's own mode; so lenta
creates the file itself, empty and 0600, before SQLite opens it, and the
folders it has to make 0700. An existing file that others can read is left
as it is (it may be shared on purpose) and reported at start.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

FILE_MODE = 0o600
FOLDER_MODE = 0o700
COMPANIONS = ("-wal", "-shm", "-journal")


def prepare_sqlite_file(path: Path) -> list[str]:
    """Make ``path``'s folders (0700) and an empty database file (0600) if
    they are missing; return a warning for each existing file that other
    users can read or write (also logged)."""
    _make_folders(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return _loose_files(path)
    try:
        os.fchmod(descriptor, FILE_MODE)  # the umask may have taken bits off, or left others on
    finally:
        os.close(descriptor)
    return _loose_files(path)


def _make_folders(folder: Path) -> None:
    missing: list[Path] = []
    for parent in (folder, *folder.parents):
        if parent.exists():
            break
        missing.append(parent)
    for created in reversed(missing):
        try:
            created.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # made by another process meanwhile
            continue
        os.chmod(created, FOLDER_MODE)


def _loose_files(path: Path) -> list[str]:
    warnings = []
    for candidate in (path, *(path.with_name(path.name + suffix) for suffix in COMPANIONS)):
        try:
            mode = stat.S_IMODE(candidate.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            warning = (
                f"{candidate} can be read by other users (mode {mode:04o}); it holds password hashes, "
                f"sessions and feed credentials: chmod 600 {candidate}"
            )
            log.warning("%s", warning)
            warnings.append(warning)
    return warnings
