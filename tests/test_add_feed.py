"""Adding a feed fetches it at once, and a URL that gives no feed is refused
with the reason, with nothing stored (`lenta add`, the admin form); `--force`
and the form's checkbox keep it with its error. OPML imports add the feeds,
then fetch them: `lenta import` with a progress report and a summary, the
admin form in the background (the web server wakes its refresher).

Real feeds on a real HTTP server on 127.0.0.1 (LENTA_FETCH_ALLOW), a real
SQLite file, the web app under uvicorn, `lenta serve`'s refresher as the
child process it is."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from click.testing import Result
from httpserver import LocalServer
from httpserver import RecordedRequest
from httpserver import Reply
from httpserver import free_port
from test_web import PASSWORD
from test_web import client
from test_web import feed_xml
from test_web import form_token
from test_web import sign_in
from webserver import AppServer

from lenta.cli import main
from lenta.config import Settings
from lenta.config import load_settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.web import create_app

ADMIN = "/admin/config/services/aggregator"
RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
PAGE_WITHOUT_FEED = b"<!doctype html><html><head><title>Just a page</title></head><body><p>Hello</p></body></html>"
PAGE_WITH_FEED = (
    b'<!doctype html><html><head><title>Blog</title><link rel="alternate" type="application/rss+xml" href="/blog.xml">'
    b"</head><body>Blog</body></html>"
)
NOT_A_FEED = b'{"name": "a JSON document", "but": "no feed"}'


def routes() -> dict[str, Reply]:
    return {
        "/feed.xml": Reply(body=feed_xml(3, "Three items"), headers=RSS),
        "/blog": Reply(body=PAGE_WITH_FEED, headers=HTML),
        "/blog.xml": Reply(body=feed_xml(2, "The blog"), headers=RSS),
        "/page": Reply(body=PAGE_WITHOUT_FEED, headers=HTML),
        "/data.json": Reply(body=NOT_A_FEED, headers={"Content-Type": "application/json"}),
        "/teapot.xml": Reply(status=418, body=b"short and stout"),
    }


@pytest.fixture
def feeds() -> Iterator[LocalServer]:
    with LocalServer(routes()) as server:
        yield server


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "add.sqlite"


def run(db: Path, *args: str) -> Result:
    env = {"LENTA_DB": str(db), "LENTA_FETCH_ALLOW": "127.0.0.1", "LENTA_FETCH_TIMEOUT": "5"}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def opened(db: Path) -> Lenta:
    return make_lenta(load_settings({}, db=str(db)))


def nothing_stored(db: Path) -> None:
    lenta = opened(db)
    try:
        assert lenta.list_feeds() == []
        assert lenta.list_categories() == []
        assert lenta.items_page().total == 0
    finally:
        lenta.close()


# -- lenta add ---------------------------------------------------------------


def test_lenta_add_fetches_the_feed_at_once_and_says_what_it_got(db: Path, feeds: LocalServer) -> None:
    # Bad input is refused before any fetch.
    too_long = run(db, "add", feeds.url("/feed.xml"), "--title", "x" * 300)
    bad_refresh = run(db, "add", feeds.url("/feed.xml"), "--refresh", "77")
    assert too_long.exit_code == bad_refresh.exit_code == 1
    assert feeds.requests == []
    added = run(db, "add", feeds.url("/feed.xml"), "--category", "News")
    assert added.exit_code == 0, added.output
    assert added.stdout == f"Added feed 1: Three items (3 items) {feeds.url('/feed.xml')}\n"
    assert feeds.paths == ["/feed.xml"]  # fetched once: the check's body is what is stored
    lenta = opened(db)
    try:
        (feed,) = lenta.list_feeds()
        assert (feed.title, feed.item_count, feed.error) == ("Three items", 3, None)
        assert [item.title for item in lenta.items_page().items] == ["Item 1", "Item 2", "Item 3"]
        assert feed.checked_at is not None and feed.next_check_at is not None and feed.next_check_at > feed.checked_at
        assert [c.title for c in lenta.list_categories()] == ["News"]
    finally:
        lenta.close()
    # Its one item is "1 item".
    with LocalServer({"/one.xml": Reply(body=feed_xml(1, "Lone"), headers=RSS)}) as one:
        assert run(db, "add", one.url("/one.xml")).stdout.startswith("Added feed 2: Lone (1 item) ")


def test_lenta_add_of_a_page_adds_the_feed_it_links_to(db: Path, feeds: LocalServer) -> None:
    added = run(db, "add", feeds.url("/blog"))
    assert added.exit_code == 0, added.output
    assert added.stdout == f"Added feed 1: The blog (2 items) {feeds.url('/blog.xml')}\n"
    assert feeds.paths == ["/blog", "/blog.xml"]


def test_the_added_feeds_validators_come_from_its_one_fetch(db: Path) -> None:
    headers = {**RSS, "ETag": '"v1"', "Last-Modified": "Mon, 07 Dec 2026 06:00:00 GMT"}
    with LocalServer({"/tagged.xml": Reply(body=feed_xml(2, "Tagged"), headers=headers)}) as server:
        assert run(db, "add", server.url("/tagged.xml")).exit_code == 0
        assert run(db, "refresh", "--all").exit_code == 0
        first, second = server.requests
        assert "if-none-match" not in first.headers
        assert second.headers["if-none-match"] == '"v1"'  # what the first fetch said, kept


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing.xml", "HTTP 404"),
        ("/teapot.xml", "HTTP 418"),
        ("/page", "No feed found on the page"),
        ("/data.json", "JSON"),
    ],
)
def test_lenta_add_refuses_a_url_that_gives_no_feed_and_stores_nothing(
    db: Path, feeds: LocalServer, path: str, reason: str
) -> None:
    refused = run(db, "add", feeds.url(path), "--category", "Never made")
    assert refused.exit_code == 1
    assert refused.stdout == ""
    assert refused.stderr.startswith("Error: Not added: ") and reason in refused.stderr, refused.stderr
    assert refused.stderr.endswith(" (--force keeps it all the same)\n")
    nothing_stored(db)


def test_lenta_add_refuses_a_dead_host(db: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/feed.xml"
    refused = run(db, "add", dead)
    assert refused.exit_code == 1
    port = dead.split(":")[2].split("/")[0]
    assert refused.stderr == f"Error: Not added: connection refused by 127.0.0.1:{port} (--force keeps it all the same)\n"
    nothing_stored(db)


def test_lenta_add_force_keeps_the_feed_with_its_error(db: Path, feeds: LocalServer) -> None:
    dead = f"http://127.0.0.1:{free_port()}/feed.xml"
    kept = [run(db, "add", "--force", url) for url in (feeds.url("/missing.xml"), feeds.url("/page"), dead)]
    assert [result.exit_code for result in kept] == [0, 0, 0], [result.output for result in kept]
    assert all("Warning: it could not be read: " in result.stderr for result in kept)
    assert kept[0].stdout == f"Added feed 1: {feeds.url('/missing.xml')} (0 items)\n"
    assert kept[1].stderr.endswith(
        "Warning: it could not be read: The document is an HTML page, not a feed. (kept; `lenta refresh` tries again)\n"
    )
    rows = {row["url"]: row for row in json.loads(run(db, "list", "--json").stdout)}
    assert rows[feeds.url("/missing.xml")]["error_kind"] == "http_4xx"
    assert rows[feeds.url("/missing.xml")]["http_status"] == 404
    assert rows[feeds.url("/page")]["error_kind"] == "not_a_feed"
    assert rows[dead]["error_kind"] == "refused"
    assert all(row["checked_at"] is not None and row["items"] == 0 for row in rows.values())


def test_lenta_add_sends_credentials_and_never_shows_them(db: Path, feeds: LocalServer) -> None:
    secret = "s3cret-pass"
    expected = "Basic " + base64.b64encode(f"reader:{secret}".encode()).decode()

    def private(request: RecordedRequest) -> Reply:
        if request.headers.get("authorization") != expected:
            return Reply(status=401, body=b"who are you?")
        return Reply(body=feed_xml(2, "Private"), headers=RSS)

    feeds.routes["/private.xml"] = private
    url = feeds.url("/private.xml").replace("http://", f"http://reader:{secret}@")
    refused = run(db, "add", url.replace(secret, "wrong"))
    added = run(db, "add", url)
    assert refused.exit_code == 1 and "HTTP 401" in refused.stderr
    assert added.exit_code == 0, added.output
    masked = feeds.url("/private.xml").replace("http://", "http://***@")
    assert added.stdout == f"Added feed 1: Private (2 items) {masked}\n"
    assert secret not in refused.output + added.output and "wrong" not in refused.output


# -- lenta import --------------------------------------------------------------


def opml(*urls: str) -> bytes:
    outlines = "".join(f'<outline type="rss" text="{n}" xmlUrl="{url}"/>' for n, url in enumerate(urls))
    return f'<?xml version="1.0"?><opml version="2.0"><body><outline text="Folder">{outlines}</outline></body></opml>'.encode()


def test_lenta_import_fetches_the_new_feeds_and_reports_the_failures(db: Path, feeds: LocalServer, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/feed.xml"
    listing = tmp_path / "feeds.opml"
    listing.write_bytes(opml(feeds.url("/feed.xml"), feeds.url("/blog.xml"), feeds.url("/missing.xml"), dead))
    imported = run(db, "import", str(listing))
    assert imported.exit_code == 0, imported.output
    lines = imported.stdout.splitlines()
    assert lines[0].startswith("Imported 4 feeds")  # the import's own report (its wording is the plurals')
    port = dead.split(":")[2].split("/")[0]
    assert sorted(lines[1:3]) == sorted(
        [f"failed: {feeds.url('/missing.xml')}: HTTP 404 Not Found", f"failed: {dead}: connection refused by 127.0.0.1:{port}"]
    )
    assert lines[3] == (
        "Fetched 4 new feeds: 2 read, 2 failed; 5 items stored (the feeds that failed are kept: `lenta refresh` tries them again)"
    )
    lenta = opened(db)
    try:
        by_url = {feed.url: feed for feed in lenta.list_feeds()}
        assert by_url[feeds.url("/feed.xml")].item_count == 3 and by_url[feeds.url("/blog.xml")].item_count == 2
        assert by_url[feeds.url("/missing.xml")].error_kind == "http_4xx" and by_url[dead].error_kind == "refused"
        assert lenta.items_page().total == 5
    finally:
        lenta.close()
    # Imported again: nothing new, nothing fetched.
    before = len(feeds.requests)
    again = run(db, "import", str(listing))
    assert again.exit_code == 0 and again.stdout.startswith("Imported 0 feeds") and "Fetched" not in again.stdout
    assert len(feeds.requests) == before


def test_lenta_import_no_fetch_leaves_the_feeds_to_the_refresher(db: Path, feeds: LocalServer, tmp_path: Path) -> None:
    listing = tmp_path / "feeds.opml"
    listing.write_bytes(opml(feeds.url("/feed.xml")))
    imported = run(db, "import", "--no-fetch", str(listing))
    assert imported.exit_code == 0 and "Fetched" not in imported.stdout
    assert feeds.requests == []
    refreshed = run(db, "refresh")  # due since they were added
    assert "1 ok" in refreshed.stdout and "3 new items" in refreshed.stdout


# -- the admin form ------------------------------------------------------------


@pytest.fixture
def web(lenta: Lenta, settings: Settings) -> Iterator[AppServer]:
    lenta.add_user("admin", PASSWORD, is_admin=True)
    with AppServer(create_app(settings, lenta)) as server:
        yield server


def test_the_add_form_fetches_the_feed_and_shows_its_items(web: AppServer, feeds: LocalServer, lenta: Lenta) -> None:
    with client(web) as http:
        sign_in(http)
        token = form_token(http.get(f"{ADMIN}/add/feed").text)
        added = http.post(f"{ADMIN}/add/feed", data={"csrf_token": token, "url": feeds.url("/blog")})
        overview = http.get(ADMIN).text
        russian = http.get(f"{ADMIN}/add/feed", headers={"Accept-Language": "ru"}).text
    assert added.status_code == 303
    (feed,) = lenta.list_feeds()
    assert (feed.url, feed.title, feed.item_count) == (feeds.url("/blog.xml"), "The blog", 2)
    assert "The feed The blog has been added with 2 items." in overview
    assert "has not been fetched yet" not in overview
    assert "Добавить, даже если её сейчас не прочитать" in russian


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/missing.xml", "HTTP 404"), ("/page", "No feed found on the page"), ("/data.json", "JSON"), (None, "refused")],
)
def test_the_add_form_refuses_a_url_that_gives_no_feed_unless_forced(
    web: AppServer, feeds: LocalServer, lenta: Lenta, path: str | None, reason: str
) -> None:
    url = feeds.url(path) if path else f"http://127.0.0.1:{free_port()}/feed.xml"
    with client(web) as http:
        sign_in(http)
        token = form_token(http.get(f"{ADMIN}/add/feed").text)
        refused = http.post(f"{ADMIN}/add/feed", data={"csrf_token": token, "url": url, "title": "Kept title"})
        assert lenta.list_feeds() == []
        forced = http.post(f"{ADMIN}/add/feed", data={"csrf_token": token, "url": url, "force": "1"})
        overview = http.get(forced.headers["location"]).text
    assert refused.status_code == 400
    assert reason.lower() in refused.text.lower()
    assert "The feed has not been added." in refused.text
    assert 'value="Kept title"' in refused.text and 'name="force"' in refused.text
    assert forced.status_code == 303
    (feed,) = lenta.list_feeds()
    assert feed.url == url and feed.error and feed.checked_at is not None
    assert "could not be read (the table says why)" in overview
    assert f'id="feed-{feed.id}"' in overview


def test_the_add_form_refuses_before_storing_a_category(web: AppServer, feeds: LocalServer, lenta: Lenta) -> None:
    science = lenta.add_category("Science")
    with client(web) as http:
        sign_in(http)
        token = form_token(http.get(f"{ADMIN}/add/feed").text)
        refused = http.post(
            f"{ADMIN}/add/feed", data={"csrf_token": token, "url": feeds.url("/page"), "categories": str(science.id)}
        )
    assert refused.status_code == 400 and lenta.list_feeds() == []
    assert lenta.get_category(science.id).feed_count == 0


# -- the OPML form: fetched in the background ------------------------------------


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_the_opml_form_returns_at_once_and_the_refresher_fetches_the_feeds(
    lenta: Lenta, settings: Settings, feeds: LocalServer
) -> None:
    """The refresher looks for due feeds once an hour here: only the wake
    the import gives it can fetch the second import's feeds within seconds."""
    lenta.add_user("admin", PASSWORD, is_admin=True)
    feeds.routes["/slow.xml"] = Reply(body=feed_xml(4, "Slow"), headers=RSS, delay=3.0)
    background = settings.replace(scheduler=True, scheduler_tick=3600.0)
    with AppServer(create_app(background, lenta)) as web, client(web) as http:
        sign_in(http)
        token = form_token(http.get(f"{ADMIN}/add/opml").text)

        def upload(*urls: str) -> httpx.Response:
            files = {"upload": ("feeds.opml", opml(*urls), "text/x-opml")}
            return http.post(f"{ADMIN}/add/opml", data={"csrf_token": token}, files=files)

        first = upload(feeds.url("/feed.xml"))
        assert first.status_code == 303
        wait_for(lambda: lenta.list_feeds()[0].item_count == 3, "the first import's feed")  # the refresher is up

        started = time.monotonic()
        second = upload(feeds.url("/slow.xml"), feeds.url("/missing.xml"))
        answered = time.monotonic() - started
        progress = http.get(ADMIN).text
        wait_for(lambda: all(feed.checked_at is not None for feed in lenta.list_feeds()), "the second import's feeds", 15)
        done = http.get(ADMIN).text
        failing = http.get(f"{ADMIN}?state=errors").text
    assert second.status_code == 303 and answered < 3.0  # the slow feed was not waited for
    assert "2 new feeds are being fetched in the background" in progress
    assert re.search(r"[12] feeds? ha(s|ve) not been fetched yet", progress)
    assert "not been fetched yet" not in done
    by_url = {feed.url: feed for feed in lenta.list_feeds()}
    assert by_url[feeds.url("/slow.xml")].item_count == 4
    assert by_url[feeds.url("/missing.xml")].error_kind == "http_4xx"
    assert f'id="feed-{by_url[feeds.url("/missing.xml")].id}"' in failing
    assert f'id="feed-{by_url[feeds.url("/slow.xml")].id}"' not in failing
