"""Logs (issue 9): `lenta serve` and `lenta refresh` as real processes with
LENTA_LOG_FORMAT=json write one JSON object a line to standard error — a
line per refresh round, a warning per failed feed, a line per request — and
no secret planted along the way (a feed's credentials, a user's password,
the session cookie, the database's password) appears anywhere in them."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from conftest import POSTGRES_URL
from conftest import fresh_postgres_schema
from httpserver import LocalServer
from httpserver import Reply
from httpserver import free_port
from starlette.types import ASGIApp
from starlette.types import Message
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send
from test_web import form_token

from lenta.cli import main
from lenta.config import load_settings
from lenta.logs import JSONFormatter
from lenta.logs import TextFormatter
from lenta.logs import configure_logging
from lenta.logs import scrub
from lenta.web.accesslog import AccessLogMiddleware
from lenta.web.accesslog import shown_path

FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://example.com/</link>'
    b"<item><title>Hello</title><guid>1</guid><description>Hi</description></item>"
    b"<item><title>World</title><guid>2</guid><description>There</description></item></channel></rss>"
)
RSS = {"Content-Type": "application/rss+xml"}
FEED_SECRET = "feed-secret-3141"
USER_PASSWORD = "user-password-2718"
DB_PASSWORD = "db-password-1618"

Line = dict[str, Any]


def json_lines(text: str) -> list[Line]:
    """Every line of ``text`` as a JSON object (failing on any that is not one)."""
    lines = []
    for raw in text.splitlines():
        entry = json.loads(raw)
        assert isinstance(entry, dict), raw
        assert {"time", "level", "logger", "pid", "message"} <= entry.keys(), raw
        lines.append(entry)
    return lines


def lenta(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lenta", *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`lenta serve` (its refresher on) logging to ``log``; yields its base URL once it answers."""
    port = free_port()
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "lenta", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: _answers(base) or server.poll() is not None, "lenta serve to answer")
            assert server.poll() is None, log.read_text()
            yield base, server
        finally:
            if server.poll() is None:
                server.terminate()
            server.communicate(timeout=30)


def _answers(base: str) -> bool:
    try:
        httpx.get(base + "/healthz", timeout=2)
    except httpx.TransportError:
        return False
    return True


def wait_for(condition: Callable[[], object], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def events(lines: list[Line], event: str) -> list[Line]:
    return [line for line in lines if line.get("event") == event]


def database_with_a_password(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield str(tmp_path / "lenta.sqlite")
        return
    with fresh_postgres_schema() as url:
        # The server trusts local connections: a password in the URL is accepted, and must never be shown.
        planted = re.sub(r"^([a-z+]+://[^:@/]+)(:[^@/]*)?@", rf"\1:{DB_PASSWORD}@", url)
        if DB_PASSWORD not in planted:
            pytest.skip(f"LENTA_TEST_POSTGRES_URL names no user to give a password: {POSTGRES_URL}")
        yield planted


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_with_a_password(request.param, tmp_path)


def test_serve_and_refresh_log_json_lines_with_no_secret_in_them(database: str, tmp_path: Path) -> None:
    routes = {"/feed": Reply(body=FEED, headers=RSS), "/private": Reply(status=401, body=b"who are you?")}
    with LocalServer(routes) as feeds:
        private = feeds.url("/private").replace("http://", f"http://reader:{FEED_SECRET}@")
        env = {
            **os.environ,
            "LENTA_DB": database,
            "LENTA_FETCH_ALLOW": "127.0.0.1",
            "LENTA_LOG_FORMAT": "json",
            "LENTA_SCHEDULER_TICK": "0.3",
        }
        # Imported, not fetched: both are due when serve's refresher starts.
        listing = tmp_path / "feeds.opml"
        outlines = "".join(
            f'<outline type="rss" text="{n}" xmlUrl="{url}"/>' for n, url in enumerate([feeds.url("/feed"), private])
        )
        listing.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>')
        outputs = [lenta(env, "migrate"), lenta(env, "import", "--no-fetch", str(listing))]
        outputs.append(lenta(env, "user", "add", "admin", "--admin", stdin=USER_PASSWORD + "\n"))
        assert all(done.returncode == 0 for done in outputs), [done.stderr for done in outputs]

        serve_log = tmp_path / "serve.log"
        with serving(env, serve_log) as (base, server):
            # The refresher (a child process) refreshes both feeds, which are due since they were added.
            wait_for(lambda: '"refresh_round"' in serve_log.read_text(), "the refresher's round line")
            with httpx.Client(base_url=base) as http:
                assert http.get("/aggregator?page=0").status_code == 200
                token = form_token(http.get("/user/login").text)
                signed_in = http.post(
                    "/user/login", data={"csrf_token": token, "name": "admin", "pass": USER_PASSWORD, "destination": "/admin"}
                )
                assert signed_in.status_code == 303
                cookie = http.cookies["lenta_session"]
                assert http.get("/admin/config/services/aggregator").status_code == 200
                # Secrets in a query string are not logged either.
                http.get(f"/user/login?destination=/aggregator&password={USER_PASSWORD}")
            server.terminate()
            out, _ = server.communicate(timeout=30)
        refreshed = lenta(env, "refresh", "--all")
        assert refreshed.returncode == 0, refreshed.stderr

    served = json_lines(serve_log.read_text())
    refresh_lines = json_lines(refreshed.stderr)

    # A round line from serve's refresher, a child process of its own, logging as serve does.
    (first, *_) = events(served, "refresh_round")
    assert first["logger"] == "lenta.refresh" and first["level"] == "info" and first["pid"] != server.pid
    assert (first["feeds"], first["ok"], first["not_modified"], first["failed"], first["new_items"]) == (2, 1, 0, 1, 2)
    assert isinstance(first["duration"], float) and first["duration"] >= 0
    # ... and one from `lenta refresh`.
    (round_line,) = events(refresh_lines, "refresh_round")
    assert (round_line["feeds"], round_line["failed"]) == (2, 1)

    # The failed feed: a warning with its fields, its credentials masked.
    for lines in (served, refresh_lines):
        (error,) = events(lines, "feed_error")
        assert error["level"] == "warning" and error["logger"] == "lenta.update"
        assert error["feed_id"] == 2 and error["kind"] == "http_4xx" and error["status"] == 401
        assert error["url"] == feeds.url("/private").replace("http://", "http://***@")
        assert "401" in error["error"]

    # The requests, with their status, duration and client.
    requests = {(line["method"], line["path"]): line for line in events(served, "request")}
    page = requests["GET", "/aggregator?page=0"]
    assert page["status"] == 200 and page["client"] == "127.0.0.1" and page["logger"] == "lenta.access"
    assert isinstance(page["duration"], float)
    assert requests["POST", "/user/login"]["status"] == 303
    assert requests["GET", "/admin/config/services/aggregator"]["status"] == 200
    assert ("GET", "/user/login?destination=***&password=***") in requests

    everything = serve_log.read_text() + out + "".join(done.stdout + done.stderr for done in [*outputs, refreshed])
    for secret in (FEED_SECRET, USER_PASSWORD, cookie, DB_PASSWORD):
        assert secret not in everything


def test_serves_refresher_logs_at_the_level_given_on_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "LENTA_DB": str(tmp_path / "lenta.sqlite"), "LENTA_LOG_FORMAT": "json", "LENTA_SCHEDULER_TICK": "0.2"}
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "lenta", "--log-level", "debug", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            # Idle rounds are logged at debug only: the child logs them since it was handed the level.
            wait_for(lambda: '"refresh_round"' in log.read_text() or server.poll() is not None, "an idle round's line")
        finally:
            server.terminate()
            server.wait(timeout=30)
    (idle, *_) = events(json_lines(log.read_text()), "refresh_round")
    assert idle["level"] == "debug" and idle["feeds"] == 0 and idle["pid"] != server.pid


def test_text_logs_and_the_log_level(tmp_path: Path) -> None:
    with LocalServer({"/feed": Reply(status=500)}) as feeds:
        env = {**os.environ, "LENTA_DB": str(tmp_path / "lenta.sqlite"), "LENTA_FETCH_ALLOW": "127.0.0.1"}
        assert lenta(env, "add", "--force", feeds.url("/feed")).returncode == 0
        text = lenta(env, "refresh", "--all")
        quiet = lenta(env, "--log-level", "error", "refresh", "--all")
        warnings_only = lenta({**env, "LENTA_LOG_LEVEL": "WARNING"}, "refresh", "--all")
    assert re.search(r"^\S+Z WARNING lenta\.update\[\d+\]: feed 1 failed: http://127\.0\.0\.1:\d+/feed: ", text.stderr, re.M)
    assert re.search(
        r"^\S+Z INFO lenta\.refresh\[\d+\]: refresh round: 1 feeds, 0 ok, 0 not modified, 1 failed;", text.stderr, re.M
    )
    assert quiet.stderr == ""
    assert "WARNING lenta.update" in warnings_only.stderr and "refresh round" not in warnings_only.stderr
    # The command's own report is on standard output, whatever the log says.
    for done in (text, quiet, warnings_only):
        assert "failed: http://127.0.0.1:" in done.stdout and "1 feed: 0 ok, 0 not modified, 1 failed" in done.stdout


def test_bad_log_settings_are_refused(tmp_path: Path) -> None:
    env = {"LENTA_DB": str(tmp_path / "lenta.sqlite")}
    bad_format = CliRunner().invoke(main, ["list"], env={**env, "LENTA_LOG_FORMAT": "xml"})
    assert bad_format.exit_code == 1 and "LENTA_LOG_FORMAT='xml' is not valid: must be one of text, json" in bad_format.output
    bad_level = CliRunner().invoke(main, ["--log-level", "loud", "list"], env=env)
    assert bad_level.exit_code == 2 and "'loud' is not one of" in bad_level.output


def test_an_idle_round_is_logged_at_debug_only(tmp_path: Path) -> None:
    env = {**os.environ, "LENTA_DB": str(tmp_path / "lenta.sqlite"), "LENTA_LOG_FORMAT": "json"}
    assert lenta(env, "refresh").stderr == ""
    (line,) = events(json_lines(lenta(env, "--log-level", "debug", "refresh").stderr), "refresh_round")
    assert line["level"] == "debug" and line["feeds"] == 0


@pytest.mark.parametrize(
    ("raw_path", "query", "shown"),
    [
        (b"/aggregator", b"page=2", "/aggregator?page=2"),
        (b"/admin/config/services/aggregator", b"sort=health", "/admin/config/services/aggregator?sort=health"),
        (b"/user/login", b"destination=%2Fadmin&password=x", "/user/login?destination=***&password=***"),
        (b"/websub/s3cret-token", b"hub.mode=subscribe&hub.challenge=abc", "/websub/***?hub.mode=subscribe&hub.challenge=***"),
        (b"/websub/", b"", "/websub/"),
        (b"/aggregator/sources/%0Afake", b"", "/aggregator/sources/%0Afake"),  # as sent: no line break
        (b"/x", b"page=%0A", "/x?page=%0A"),
    ],
)
def test_what_the_access_log_shows_of_a_request(raw_path: bytes, query: bytes, shown: str) -> None:
    assert shown_path({"type": "http", "raw_path": raw_path, "path": "", "query_string": query}) == shown


def test_every_line_is_scrubbed_of_credentials_and_passwords() -> None:
    assert scrub("GET https://reader:pw@example.com/feed failed") == "GET https://***@example.com/feed failed"
    assert scrub("connect host=db password=hunter2 user=x") == "connect host=db password=*** user=x"
    try:
        raise RuntimeError("could not open postgresql://lenta:hunter2@db/lenta")
    except RuntimeError:
        record = logging.LogRecord("lenta", logging.ERROR, __file__, 1, "failed: %s", ("https://u:pw@h/",), sys.exc_info())
    setattr(record, "url", "https://u:pw@h/x")  # noqa: B010 - as `extra` does
    entry = json.loads(JSONFormatter().format(record))
    assert entry["message"] == "failed: https://***@h/" and entry["url"] == "https://***@h/x"
    assert "postgresql://***@db/lenta" in entry["exception"] and "hunter2" not in entry["exception"]
    text = TextFormatter().format(record)
    assert "hunter2" not in text and "pw@" not in text and text.count("\n") > 1


def test_configuring_twice_leaves_one_handler(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = len(root.handlers)
    settings = load_settings({}, db=str(tmp_path / "x.sqlite"))
    configure_logging(settings)
    configure_logging(settings.replace(log_format="json", log_level="warning"))
    assert len(root.handlers) == before + 1 and root.level == logging.WARNING


def test_the_access_log_middleware_in_process(caplog: pytest.LogCaptureFixture) -> None:
    """What `lenta serve` wraps its app in, driven here directly: a line per
    request with the status the client got (500 for a crash), "-" when no
    answer began; other scopes (lifespan) pass through unlogged."""

    async def ok(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def crash(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None  # as if the client went away before an answer began

    async def drive(app: ASGIApp, scope_type: str = "http") -> list[Message]:
        scope = {
            "type": scope_type,
            "method": "GET",
            "path": "/aggregator",
            "raw_path": b"/aggregator",
            "query_string": b"page=1&secret=x",
            "client": ("192.0.2.7", 5000),
            "headers": [],
        }
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await AccessLogMiddleware(app)(scope, receive, send)
        return sent

    with caplog.at_level(logging.INFO, logger="lenta.access"):
        assert asyncio.run(drive(ok))[0]["status"] == 204
        with pytest.raises(RuntimeError):
            asyncio.run(drive(crash))
        assert asyncio.run(drive(silent)) == []
        asyncio.run(drive(ok, "lifespan"))
    lines = [r for r in caplog.records if r.name == "lenta.access"]
    assert [(r.status, r.method, r.path, r.client) for r in lines] == [  # type: ignore[attr-defined]
        (status, "GET", "/aggregator?page=1&secret=***", "192.0.2.7") for status in (204, 500, None)
    ]
    assert [r.getMessage().split(" ms")[0].rsplit(" ", 1)[0] for r in lines] == [
        f'192.0.2.7 "GET /aggregator?page=1&secret=***" {status}' for status in ("204", "500", "-")
    ]
