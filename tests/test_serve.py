"""`lenta serve` as a real process on 127.0.0.1: connections slow to send
their headers are closed, connections beyond the limit are answered 503,
and the database it names at start shows no password."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import POSTGRES_URL
from conftest import fresh_postgres_schema
from httpserver import free_port

from lenta.config import display_database


@contextmanager
def lenta_serve(db: str, **env: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """`lenta serve` on a free port with ``env`` (LENTA_* settings); yields
    its port and process once it answers."""
    port = free_port()
    environ = {**os.environ, "LENTA_DB": db, "LENTA_SCHEDULER": "false", **env}
    server = subprocess.Popen(
        [sys.executable, "-m", "lenta", "serve", "--port", str(port)],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"lenta serve did not start: {server.communicate()[1]}") from None
                time.sleep(0.1)
        yield port, server
    finally:
        if server.poll() is None:
            server.terminate()
        server.communicate(timeout=30)


def closed_after(sock: socket.socket, patience: float, dribble: bytes = b"") -> float | None:
    """Seconds until the server closes ``sock`` (None if it has not within
    ``patience``), sending ``dribble`` a byte every 0.2 s meanwhile."""
    started = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - started < patience:
        try:
            if sock.recv(1024) == b"":
                return time.monotonic() - started
        except TimeoutError:
            pass
        except ConnectionResetError:
            return time.monotonic() - started
        if dribble:
            try:
                sock.sendall(dribble[:1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started
            dribble = dribble[1:]
    return None


def test_connections_slow_to_send_their_headers_are_closed(tmp_path: Path) -> None:
    timeout = 1.5
    with lenta_serve(str(tmp_path / "lenta.sqlite"), LENTA_HEADER_TIMEOUT=str(timeout)) as (port, _):
        head = f"GET /aggregator HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
        silent = socket.create_connection(("127.0.0.1", port))
        half = socket.create_connection(("127.0.0.1", port))
        half.sendall(head)  # and never the blank line that ends the headers
        dribbling = socket.create_connection(("127.0.0.1", port))
        # A byte at a time, each in time: the headers' deadline counts from the first.
        dribbling.sendall(head[:1])
        kept_alive = socket.create_connection(("127.0.0.1", port))
        kept_alive.sendall(head + b"\r\n")
        answer = b""
        while b"</html>" not in answer:
            answer += kept_alive.recv(65536)
        kept_alive.sendall(head)  # the next request on the connection, as slow
        results: dict[str, float | None] = {}

        def watch(name: str, sock: socket.socket, dribble: bytes = b"") -> None:
            results[name] = closed_after(sock, timeout + 3, dribble)

        threads = [
            threading.Thread(target=watch, args=("silent", silent)),
            threading.Thread(target=watch, args=("half", half)),
            threading.Thread(target=watch, args=("dribbling", dribbling, head[1:] * 5)),
            threading.Thread(target=watch, args=("kept alive", kept_alive)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for sock in (silent, half, dribbling, kept_alive):
            sock.close()
        # The server still serves.
        assert httpx.get(f"http://127.0.0.1:{port}/aggregator").status_code == 200
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert all(seconds is not None and seconds < timeout + 1 for seconds in results.values()), results


def test_a_refused_upload_is_answered_at_once_and_its_rest_taken_for_a_while_only(tmp_path: Path) -> None:
    timeout = 1.5
    with lenta_serve(str(tmp_path / "lenta.sqlite"), LENTA_HEADER_TIMEOUT=str(timeout)) as (port, _):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                f"POST /user/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {2**30}\r\n\r\n"
                f"name=admin&pass=".encode()
            )
            answer = b""
            while b"</html>" not in answer:
                answer += sock.recv(65536)
            # The client goes on sending its gigabyte: read and dropped, until the deadline.
            closed = closed_after(sock, timeout + 3, b"a" * 100)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert closed is not None and closed < timeout + 1


def test_connections_beyond_the_limit_are_answered_503(tmp_path: Path) -> None:
    with lenta_serve(str(tmp_path / "lenta.sqlite"), LENTA_MAX_CONNECTIONS="3", LENTA_HEADER_TIMEOUT="5") as (port, _):
        url = f"http://127.0.0.1:{port}/aggregator"
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
        for sock in held:
            sock.sendall(b"GET /aggregator HTTP/1.1\r\n")
        time.sleep(0.2)  # until the server has them
        third = httpx.get(url)  # two held and this one: the limit, served
        held.append(socket.create_connection(("127.0.0.1", port)))
        time.sleep(0.2)
        fourth = httpx.get(url)  # three held: one too many
        for sock in held:
            sock.close()
        time.sleep(0.2)
        after = httpx.get(url)
    assert third.status_code == 200
    assert fourth.status_code == 503
    assert after.status_code == 200


def test_serve_shows_its_database_without_a_password(tmp_path: Path) -> None:
    if not POSTGRES_URL:
        pytest.skip("needs PostgreSQL (LENTA_TEST_POSTGRES_URL) for `lenta serve` to open a URL with a password")
    with fresh_postgres_schema() as url:
        with_password = re.sub(r"^([a-z+]+://[^:@/]+)(:[^@/]*)?@", r"\1:s3cret-pw@", url)
        if "s3cret-pw" not in with_password:
            pytest.skip(f"LENTA_TEST_POSTGRES_URL names no user to give a password: {POSTGRES_URL}")
        with lenta_serve(with_password) as (_, server):
            server.terminate()
            out, err = server.communicate(timeout=30)
    assert "s3cret-pw" not in out + err
    assert ":***@" in out and "(database postgresql" in out


def test_sqlite_paths_are_shown_as_they_are(tmp_path: Path) -> None:
    db = str(tmp_path / "lenta.sqlite")
    with lenta_serve(db) as (_, server):
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert f"(database {db})" in out


@pytest.mark.parametrize(
    ("database", "shown"),
    [
        ("postgresql://lenta:s3cret@db.example:5432/lenta", "postgresql://lenta:***@db.example:5432/lenta"),
        ("postgresql+psycopg://lenta:p%40ss@db/lenta", "postgresql+psycopg://lenta:***@db/lenta"),
        ("postgresql://db/lenta?user=lenta&password=s3cret", "postgresql://db/lenta?password=***&user=lenta"),
        ("postgresql://lenta:s3cret@db:notaport/lenta", "postgresql://lenta:***@db:notaport/lenta"),
        ("postgresql://lenta@db/lenta", "postgresql://lenta@db/lenta"),
        ("sqlite:////var/lib/lenta/lenta.sqlite", "sqlite:////var/lib/lenta/lenta.sqlite"),
        ("/var/lib/lenta/lenta.sqlite", "/var/lib/lenta/lenta.sqlite"),
    ],
)
def test_display_database(database: str, shown: str) -> None:
    assert display_database(database) == shown
