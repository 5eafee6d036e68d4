"""Every `lenta` command, given bad input, says what is wrong in one
``Error: …`` line and exits non-zero: 1 for lenta's errors, 2 for click's
usage errors (which print the usage first). Never a traceback, and never
the catch-all of :mod:`lenta.__main__` ("failed unexpectedly"), which is
there for bugs, not for input.

Each command is run as a real process (``python -m lenta``), as a user runs
it. The commands come from walking the click tree of :mod:`lenta.cli`:
every one of them gets the bad databases, settings and options below, and a
new command must list its own bad arguments in :func:`bad_arguments`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import click
import pytest
from httpserver import free_port

from lenta.cli import main

Command = tuple[str, ...]


def command_paths(group: click.Group = main, prefix: Command = ()) -> list[Command]:
    """Every runnable command under ``group``: ("add",), ("user", "add")…"""
    found: list[Command] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found.extend(command_paths(command, (*prefix, name)))
        else:
            found.append((*prefix, name))
    return found


@dataclass(frozen=True)
class Case:
    """One bad run: arguments after the command, extra environment, standard input."""

    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    stdin: str = ""
    db: str | None = None  # None: a good database file
    # Commands that need no database succeed whatever --db says.
    needs_database: bool = True


@dataclass(frozen=True)
class Files:
    """Bad inputs on disk, made once per test."""

    root: Path
    folder: Path
    empty: Path
    garbage: Path
    empty_opml: Path
    broken_json: Path
    html: Path
    under_a_file: Path


@pytest.fixture
def files(tmp_path: Path) -> Files:
    folder = tmp_path / "folder"
    folder.mkdir()
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "garbage").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "empty.opml").write_bytes(b'<?xml version="1.0"?><opml version="2.0"><head/><body></body></opml>')
    (tmp_path / "broken.json").write_bytes(b'{"version": "https://jsonfeed.org/version/1.1", "title": "x\x01", "items": []}')
    (tmp_path / "page.html").write_bytes(b"<!doctype html><html><body><p>No feed here.</p></body></html>")
    (tmp_path / "a-file").write_bytes(b"x")
    return Files(
        root=tmp_path,
        folder=folder,
        empty=tmp_path / "empty",
        garbage=tmp_path / "garbage",
        empty_opml=tmp_path / "empty.opml",
        broken_json=tmp_path / "broken.json",
        html=tmp_path / "page.html",
        under_a_file=tmp_path / "a-file" / "lenta.sqlite",
    )


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def generic_cases(files: Files, path: Command) -> list[Case]:
    """What every command gets: a bad database, a bad setting, an unknown
    option. The bad databases and settings go round the commands (each
    process costs most of a second), so that every one of them meets some
    command and every command some of them."""
    needs_database = path not in NO_DATABASE
    databases = [
        str(files.folder),
        str(files.under_a_file),
        str(files.garbage),
        "sqlite:///",
        "postgresql://reader:secret@[::1/lenta",
        "mysql://reader:secret@localhost/lenta",
    ]
    settings = [
        {"LENTA_PORT": "99999"},
        {"LENTA_FETCH_TIMEOUT": "nan"},
        {"LENTA_LOG_LEVEL": "loud"},
        {"LENTA_BASE_URL": "feeds.example.org"},
        {"LENTA_MIGRATE": "perhaps"},
    ]
    turn = command_paths().index(path)
    return [
        Case(db=databases[turn % len(databases)], needs_database=needs_database),
        Case(env=settings[turn % len(settings)]),
        Case(args=("--no-such-option",)),
    ]


# Arguments that are fine, for the generic cases to reach the database and settings.
GOOD_ARGUMENTS: dict[Command, tuple[str, ...]] = {
    ("add",): ("https://example.com/feed",),
    ("remove",): ("1",),
    ("parse",): ("{html}",),
    ("import",): ("{empty_opml}",),
    ("user", "add"): ("reader",),
    ("user", "passwd"): ("reader",),
    ("user", "delete"): ("reader",),
    ("user", "set-admin"): ("reader",),
}
NO_DATABASE = {("parse",)}


def bad_arguments(files: Files, taken_port: int) -> dict[Command, list[Case]]:
    """Each command's own bad input."""
    big = {"LENTA_FETCH_MAX_BYTES": "1000"}
    # A file its reader may not open (root opens anything: then it is left out).
    locked = files.root / "locked"
    locked.write_bytes(b"<opml/>")
    locked.chmod(0)
    unreadable = [Case((str(locked),))] if os.geteuid() != 0 else []
    return {
        ("add",): [
            Case(("",)),
            Case(("ftp://example.com/feed",)),
            Case(("http://[::1",)),
            Case(("https://example.com/feed", "--refresh", "77")),
        ],
        ("remove",): [Case(("99999999999999999999999",)), Case(("0",)), Case(("https://nowhere.example/feed",))],
        ("list",): [Case(("extra",))],
        ("refresh",): [Case(("99999999999999999999999",)), Case(("https://nowhere.example/feed",))],
        ("import",): [
            Case((str(files.root / "missing.opml"),)),
            Case((str(files.folder),)),
            Case((str(files.empty),)),
            Case((str(files.garbage),)),
            Case((str(files.empty_opml),)),
            Case(("/dev/zero",)),
            *unreadable,
        ],
        ("export",): [Case(("extra",))],
        ("parse",): [
            Case((str(files.broken_json),)),
            Case((str(files.root / "missing.xml"),)),
            Case((str(files.folder),)),
            Case((str(files.html),)),
            Case(("/dev/zero",), env=big),
            Case(("http://[::1",)),
            Case(("https://127.0.0.1:1/feed",)),  # not a public address
            *unreadable,
        ],
        ("user", "add"): [Case(("",), stdin="a long password\n"), Case(("reader",), stdin="short\n")],
        ("user", "list"): [Case(("extra",))],
        ("user", "passwd"): [Case(("nobody",), stdin="a long password\n")],
        ("user", "delete"): [Case(("nobody",))],
        ("user", "set-admin"): [Case(("nobody",))],
        ("secret", "rotate"): [Case(env={"LENTA_SECRET_KEY": "k" * 40})],
        ("migrate",): [Case(("extra",))],
        ("search-index",): [Case(("extra",))],
        ("user", "app-password"): [Case(("nobody", "phone")), Case(("",))],
        ("user", "app-passwords"): [Case(("nobody",))],
        ("user", "revoke"): [Case(("nobody", "1")), Case(("reader", "x"))],
        ("serve",): [
            Case(("--port", "99999")),
            Case(("--port", str(taken_port))),
            Case(("--host", "nowhere.invalid")),
            Case(("--host", "192.0.2.1")),  # TEST-NET-1: no interface has it
            Case(env={"LENTA_SECRET_KEY_FILE": str(files.root / "missing-key")}),
            Case(env={"LENTA_FETCH_ALLOW": "10.0.0.0/33"}),
        ],
        ("worker",): [Case(env={"LENTA_FETCH_ALLOW": "not/an/address"})],
    }


@dataclass(frozen=True)
class Run:
    command: str
    code: int
    output: str  # standard output and error


def run(path: Command, case: Case, files: Files, port: int) -> Run:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LENTA_")}
    env.update(
        HOME=str(files.root),
        LENTA_DB=str(files.root / "good.sqlite"),
        LENTA_PORT=str(port),  # serve never takes a port some other test uses
        LENTA_FETCH_TIMEOUT="5",
        LENTA_FETCH_DEADLINE="5",
    )
    env.update(case.env)
    options = ("--db", case.db) if case.db is not None else ()
    args = case.args or tuple(arg.format(**{k: str(v) for k, v in vars(files).items()}) for arg in GOOD_ARGUMENTS.get(path, ()))
    argv = [sys.executable, "-m", "lenta", *options, *path, *args]
    try:
        done = subprocess.run(
            argv, input=case.stdin, env=env, capture_output=True, text=True, timeout=60, check=False, cwd=files.root
        )
    except subprocess.TimeoutExpired as expired:
        out = (expired.stdout or b"").decode() if isinstance(expired.stdout, bytes) else expired.stdout or ""
        return Run(" ".join(argv[2:]), -1, f"timed out (it should have refused at once)\n{out}")
    return Run(" ".join(argv[2:]), done.returncode, done.stdout + done.stderr)


def check(result: Run, *, may_succeed: bool) -> list[str]:
    """What is wrong with how ``result`` ended, if anything."""
    problems = []
    if "Traceback" in result.output:
        problems.append("a traceback")
    if "failed unexpectedly" in result.output:
        problems.append("lenta's catch-all (an error no command expected)")
    if result.code == 0 and may_succeed:
        return problems
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    if len(errors) != 1:
        problems.append(f"{len(errors)} 'Error: ' lines, not one")
    usage = "Try '" in result.output  # click's usage errors print the usage and this hint
    if result.code != (2 if usage else 1):
        problems.append(f"exit status {result.code}")
    return problems


@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_bad_input_is_one_error_line_and_a_non_zero_status(path: Command, files: Files, taken_port: int) -> None:
    cases = [*generic_cases(files, path), *bad_arguments(files, taken_port).get(path, [])]
    ports = [free_port() for _ in cases]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda case, port: run(path, case, files, port), cases, ports))
    failures = []
    for case, result in zip(cases, results):
        problems = check(result, may_succeed=case.db is not None and not case.needs_database)
        if problems:
            failures.append(f"`{result.command}` (status {result.code}): {', '.join(problems)}\n{result.output}")
    assert not failures, "\n\n".join(failures)


def test_every_command_has_bad_arguments_listed(files: Files) -> None:
    assert set(command_paths()) == set(bad_arguments(files, 1)), "list each new command's bad arguments in bad_arguments()"


def test_the_messages_say_what_and_where(files: Files, taken_port: int) -> None:
    """The messages the issue quoted, now sentences naming the thing at fault."""
    port = free_port()
    json_error = run(("parse",), Case((str(files.broken_json),)), files, port).output.strip()
    assert json_error.startswith("Error: The JSON document is invalid at line 1, column ")
    assert json_error.endswith("unescaped.") and "at." not in json_error
    assert run(("import",), Case((str(files.empty_opml),)), files, port).output.strip() == (
        "Error: The OPML file lists no feeds."
    )
    assert run(("serve",), Case(("--port", str(taken_port))), files, port).output.strip() == (
        f"Error: Cannot listen on 127.0.0.1 port {taken_port}: Address already in use."
    )
    database = run(("list",), Case(db=str(files.under_a_file)), files, port).output.strip()
    assert database == f"Error: Cannot create the database file {files.under_a_file}: Not a directory."
    masked = run(("list",), Case(db="postgresql://reader:secret@[::1/lenta"), files, port).output
    assert "secret" not in masked and "reader:***@" in masked
