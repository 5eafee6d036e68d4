"""Credentials in a feed URL are sent as HTTP Basic auth, to that origin
only, and are shown nowhere: not in pages, OPML, RSS, /metrics, logs or
`lenta list` (where the admin sees ``***``)."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from httpserver import LocalServer
from httpserver import RecordedRequest
from httpserver import Reply
from test_web import ADMIN
from test_web import PASSWORD
from test_web import client
from test_web import form_token
from test_web import sign_in
from webserver import AppServer

from lenta.cli import main
from lenta.config import Settings
from lenta.core import Lenta
from lenta.credentials import masked
from lenta.credentials import redact
from lenta.credentials import split_userinfo
from lenta.storage import open_storage
from lenta.storage.migrate import alembic_config
from lenta.web import create_app

SECRET = "s3cr3t-Pa55"
RSS = {"Content-Type": "application/rss+xml"}
FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Private</title><link>https://example.com/</link>'
    b"<item><title>Members only</title><guid>1</guid><link>https://example.com/1</link>"
    b"<description>Hi</description></item></channel></rss>"
)


def basic_auth_route(body: bytes = FEED) -> Callable[[RecordedRequest], Reply]:
    expected = "Basic " + base64.b64encode(f"reader:{SECRET}".encode()).decode()

    def route(request: RecordedRequest) -> Reply:
        if request.headers.get("authorization") != expected:
            return Reply(status=401, headers={"WWW-Authenticate": 'Basic realm="feeds"'})
        return Reply(body=body, headers=RSS)

    return route


def secret_free(text: str, where: str) -> None:
    assert SECRET not in text, f"the password shows in {where}"
    assert "reader:" not in text, f"the user name and password show in {where}"


def test_credentials_are_split_kept_apart_and_masked() -> None:
    assert split_userinfo("https://u:p@host:8080/feed?x=1") == ("https://host:8080/feed?x=1", "u:p")
    assert split_userinfo("https://host/feed") == ("https://host/feed", None)
    assert masked("https://host/feed", "u:p") == "https://***@host/feed"
    assert redact("redirect loop at http://u:p@host/a, then https://x:y@other/") == (
        "redirect loop at http://***@host/a, then https://***@other/"
    )


def test_a_feed_behind_basic_auth_is_fetched_and_its_password_shown_nowhere(
    lenta: Lenta, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lenta.add_user("admin", PASSWORD, is_admin=True)
    routes: dict[str, Reply | Callable[[RecordedRequest], Reply]] = {
        "/private": basic_auth_route(),
        "/broken": Reply(status=500),
    }
    with LocalServer(routes) as server, caplog.at_level(logging.DEBUG):
        url = server.url("/private").replace("http://", f"http://reader:{SECRET}@")
        feed = asyncio.run(lenta.add_feed(url))  # autodiscovery fetches it too, with the credentials
        broken = asyncio.run(lenta.add_feed(server.url("/broken").replace("http://", f"http://reader:{SECRET}@"), discover=False))
        summary = asyncio.run(lenta.refresh(all_feeds=True))
        assert all(r.headers.get("authorization") for r in server.requests if r.path == "/private")
    assert summary.new_items == 1 and summary.failed == 1
    assert feed.url == server.url("/private") and feed.credentials == f"reader:{SECRET}"
    assert lenta.get_feed(feed.id).error is None
    secret_free(caplog.text, "the logs")
    for _, error in summary.failures:
        secret_free(error, "the refresh summary")
    secret_free(lenta.get_feed(broken.id).error or "", "the stored error")

    with AppServer(create_app(settings, lenta)) as web, client(web) as http:
        public = [
            "/aggregator",
            "/aggregator/sources",
            f"/aggregator/sources/{feed.id}",
            "/aggregator/rss",
            "/aggregator/opml",
            "/aggregator/categories",
            "/metrics",
            "/healthz",
        ]
        for path in public:
            page = http.get(path)
            assert page.status_code == 200, path
            secret_free(page.text, path)
        sign_in(http)
        admin = [ADMIN, f"{ADMIN}/health/{feed.id}", f"{ADMIN}/health/{broken.id}", f"{ADMIN}/edit/feed/{feed.id}"]
        for path in admin:
            page = http.get(path)
            assert page.status_code == 200, path
            secret_free(page.text, path)
        assert "http://***@127.0.0.1" in http.get(f"{ADMIN}/edit/feed/{feed.id}").text

        # Saving the edit form as shown keeps the credentials it shows as ***.
        edit = http.get(f"{ADMIN}/edit/feed/{feed.id}").text
        saved = http.post(
            f"{ADMIN}/edit/feed/{feed.id}",
            data={"csrf_token": form_token(edit), "url": masked(feed.url, "x"), "title": "", "refresh": ""},
        )
        assert saved.status_code == 303, saved.text
        assert lenta.get_feed(feed.id).credentials == f"reader:{SECRET}"

    env = {"LENTA_DB": settings.db}
    for command in (["list"], ["list", "--json"], ["export"]):
        result = CliRunner().invoke(main, command, env=env, catch_exceptions=False)
        assert result.exit_code == 0
        secret_free(result.output, "lenta " + " ".join(command))
    assert "http://***@127.0.0.1" in CliRunner().invoke(main, ["list"], env=env).output


def test_credentials_go_to_their_origin_only(lenta: Lenta) -> None:
    with LocalServer({"/moved": Reply(body=FEED, headers=RSS)}) as other:
        target = other.url("/moved").replace("127.0.0.1", "localhost")  # another origin

        routes = {"/private": Reply(status=301, headers={"Location": target})}
        with LocalServer(routes) as server:
            feed = asyncio.run(
                lenta.add_feed(server.url("/private").replace("http://", f"http://reader:{SECRET}@"), discover=False)
            )
            for _ in range(2):  # a permanent redirect moves the feed once seen twice
                asyncio.run(lenta.refresh([feed.id]))
            assert server.requests[0].headers.get("authorization")  # its own origin gets them
        assert other.requests and all("authorization" not in r.headers for r in other.requests)
    moved = lenta.get_feed(feed.id)
    assert moved.url == target
    assert moved.credentials is None  # given for the old origin, not this one


def test_migration_moves_credentials_out_of_stored_urls(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import text

    path = tmp_path / "old.sqlite"
    storage = open_storage(str(path), migrate=False)
    config = alembic_config()
    with storage.db.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        connection.execute(
            text(
                "INSERT INTO feeds (url, created_at, error, error_count, gone) VALUES "
                f"('https://reader:{SECRET}@example.com/feed', '2026-01-01', "
                f"'redirect loop at https://reader:{SECRET}@example.com/feed', 0, 0)"
            )
        )
        connection.commit()
    storage.close()
    storage = open_storage(str(path), migrate=True)  # an existing database: migrated when asked
    try:
        (feed,) = storage.feeds.list()
    finally:
        storage.close()
    assert (feed.url, feed.credentials) == ("https://example.com/feed", f"reader:{SECRET}")
    assert feed.error == "redirect loop at https://***@example.com/feed"
