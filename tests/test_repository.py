"""The repository holds source and documentation only: no file over 1 MB,
nothing binary (an 11 MB wheel once made up 98% of its pack)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 1024 * 1024


def tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing tracked to check")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode("utf-8").split("\0") if name]


def test_no_tracked_file_is_over_a_megabyte() -> None:
    big = [str(path.relative_to(ROOT)) for path in tracked_files() if path.exists() and path.stat().st_size > MAX_BYTES]
    assert big == []


def test_every_tracked_file_is_text() -> None:
    # Text is UTF-8 without NUL bytes; anything else is a binary blob or a generated artefact.
    binary = []
    for path in tracked_files():
        if not path.exists():
            continue  # deleted in the work tree, not yet committed
        data = path.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            binary.append(str(path.relative_to(ROOT)))
            continue
        if b"\0" in data:
            binary.append(str(path.relative_to(ROOT)))
    assert binary == []
