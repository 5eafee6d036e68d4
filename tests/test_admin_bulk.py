"""The admin feed table's filter and bulk actions, through the web forms
(a signed-in admin, CSRF tokens, no JavaScript): filter by title/URL and by
state; tick feeds, or take every feed the filter shows, and delete them
(after a confirmation), refresh them now, or move/add them to a category.
And the storage methods behind them, on every backend."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import httpx
import pytest
from httpserver import LocalServer
from httpserver import Reply
from httpserver import free_port
from pagetext import parse_page
from test_browser import browser_page  # noqa: F401 - the chromium fixture, asked for by name
from test_browser import csp_violations
from test_web import PASSWORD
from test_web import client
from test_web import feed_xml
from test_web import form_token
from test_web import sign_in
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.storage import Storage
from lenta.storage.records import FeedChanges
from lenta.web import create_app

ADMIN = "/admin/config/services/aggregator"
RSS = {"Content-Type": "application/rss+xml"}


class Site:
    """Four feeds (two fetched, one failing, one never fetched) and the admin signed in."""

    def __init__(self, lenta: Lenta, feeds: LocalServer, web: AppServer) -> None:
        self.lenta = lenta
        self.feeds = feeds
        self.web = web
        self.dead = f"http://127.0.0.1:{free_port()}/dead.xml"
        self.ids: dict[str, int] = {}
        for name, url in (
            ("alpha", feeds.url("/alpha.xml")),
            ("beta", feeds.url("/beta.xml")),
            ("dead", self.dead),
            ("new", feeds.url("/new.xml")),
        ):
            self.ids[name] = asyncio.run(lenta.add_feed(url, discover=False)).id
        asyncio.run(lenta.refresh([self.ids["alpha"], self.ids["beta"], self.ids["dead"]]))

    def rows(self, http: httpx.Client, query: str = "") -> list[int]:
        page = parse_page(http.get(f"{ADMIN}{query}").text)
        return [int(row.get("id").removeprefix("feed-")) for row in page.cssselect("tr.feed-row")]

    def bulk(self, http: httpx.Client, **fields: str | list[str]) -> httpx.Response:
        token = form_token(http.get(ADMIN).text)
        return http.post(f"{ADMIN}/bulk", data={"csrf_token": token, **fields})


@pytest.fixture
def site(lenta: Lenta, settings: Settings) -> Iterator[Site]:
    lenta.add_user("admin", PASSWORD, is_admin=True)
    routes = {
        "/alpha.xml": Reply(body=feed_xml(3, "Alpha news"), headers=RSS),
        "/beta.xml": Reply(body=feed_xml(2, "Beta weekly"), headers=RSS),
        "/new.xml": Reply(body=feed_xml(1, "Brand new"), headers=RSS),
    }
    with LocalServer(routes) as feeds, AppServer(create_app(settings, lenta)) as web:
        yield Site(lenta, feeds, web)


@pytest.fixture
def http(site: Site) -> Iterator[httpx.Client]:
    with client(site.web) as session:
        sign_in(session)
        yield session


def test_the_filter_by_text_and_by_state(site: Site, http: httpx.Client) -> None:
    ids = site.ids
    assert sorted(site.rows(http)) == sorted(ids.values())
    assert site.rows(http, "?q=ALPHA") == [ids["alpha"]]  # the title, any case
    assert site.rows(http, "?q=beta.xml") == [ids["beta"]]  # the URL
    assert site.rows(http, "?state=errors") == [ids["dead"]]
    assert site.rows(http, "?state=new") == [ids["new"]]
    assert sorted(site.rows(http, "?state=ok")) == sorted([ids["alpha"], ids["beta"]])
    assert site.rows(http, "?state=ok&q=weekly") == [ids["beta"]]
    assert sorted(site.rows(http, "?state=nonsense")) == sorted(ids.values())  # an unknown state: any
    nothing = http.get(f"{ADMIN}?q=zzz").text
    assert "No feed matches the filter." in nothing and "Shown: 0 of 4." in nothing
    filtered = http.get(f"{ADMIN}?q=alpha&state=ok").text
    assert 'value="alpha"' in filtered and '<option value="ok" selected>' in filtered
    assert "Shown: 1 of 4." in filtered
    # The sort links keep the filter; the never-fetched feed is counted above the table.
    assert 'href="?q=alpha&amp;state=ok&amp;sort=health"' in filtered
    assert "1 feed has not been fetched yet" in http.get(ADMIN).text
    russian = http.get(f"{ADMIN}?state=errors", headers={"Accept-Language": "ru"}).text
    assert "с ошибками" in russian and "Заголовок или адрес содержит" in russian


def test_bulk_delete_asks_first_then_deletes_the_ticked_feeds(site: Site, http: httpx.Client) -> None:
    ids = site.ids
    ticked = [str(ids["alpha"]), str(ids["dead"])]
    asked = site.bulk(http, op="delete", feeds=ticked)
    assert asked.status_code == 200
    assert "Are you sure you want to delete 2 feeds?" in asked.text
    assert "Alpha news" in asked.text and site.dead in asked.text and "Beta weekly" not in asked.text
    assert len(site.lenta.list_feeds()) == 4  # nothing yet
    token = form_token(asked.text)
    confirm = parse_page(asked.text).cssselect("form.confirmation input[name=feeds]")
    assert sorted(field.get("value") for field in confirm) == sorted(ticked)
    done = http.post(f"{ADMIN}/bulk", data={"csrf_token": token, "op": "delete", "confirm": "1", "feeds": ticked})
    assert done.status_code == 303 and done.headers["location"] == ADMIN
    assert sorted(feed.id for feed in site.lenta.list_feeds()) == sorted([ids["beta"], ids["new"]])
    assert site.lenta.items_page().total == 2  # Alpha's 3 items went with it
    assert "Deleted 2 feeds." in http.get(ADMIN).text
    one = site.bulk(http, op="delete", confirm="1", feeds=[str(ids["new"])])
    assert one.status_code == 303 and "Deleted 1 feed." in http.get(ADMIN).text


def test_bulk_actions_on_every_feed_the_filter_shows(site: Site, http: httpx.Client) -> None:
    ids = site.ids
    science = site.lenta.add_category("Science")
    # "All shown" takes the filter's feeds, whatever is ticked (here nothing).
    moved = site.bulk(http, op="add", category=str(science.id), all_shown="1", state="ok")
    assert moved.status_code == 303 and moved.headers["location"] == f"{ADMIN}?state=ok"
    assert sorted(feed.id for feed in site.lenta.list_feeds(category_id=science.id)) == sorted([ids["alpha"], ids["beta"]])
    assert "Added 2 feeds to Science." in http.get(ADMIN).text
    asked = site.bulk(http, op="delete", all_shown="1", q="dead")
    assert "Are you sure you want to delete 1 feed?" in asked.text and site.dead in asked.text


def test_bulk_move_and_add_to_a_category(site: Site, http: httpx.Client) -> None:
    ids = site.ids
    tech = site.lenta.add_category("Tech")
    news = site.lenta.add_category("News")
    site.lenta.change_feed(
        ids["alpha"], url=site.feeds.url("/alpha.xml"), title=None, refresh=None, category_ids=[tech.id, news.id]
    )
    site.bulk(http, op="add", category=str(news.id), feeds=[str(ids["alpha"]), str(ids["beta"])])
    assert site.lenta.get_feed(ids["alpha"]).category_ids == (tech.id, news.id)  # kept, not doubled
    assert site.lenta.get_feed(ids["beta"]).category_ids == (news.id,)
    site.bulk(http, op="move", category=str(tech.id), feeds=[str(ids["alpha"]), str(ids["beta"])])
    assert site.lenta.get_feed(ids["alpha"]).category_ids == (tech.id,)
    assert site.lenta.get_feed(ids["beta"]).category_ids == (tech.id,)
    assert "Moved 2 feeds to Tech." in http.get(ADMIN).text
    # The category's page lists their items at once.
    assert site.lenta.items_page(category_id=tech.id).total == 5
    assert site.lenta.items_page(category_id=news.id).total == 0
    missing = site.bulk(http, op="move", feeds=[str(ids["alpha"])])
    assert missing.status_code == 303 and "Choose a category." in http.get(ADMIN).text
    unknown = site.bulk(http, op="move", category="999", feeds=[str(ids["alpha"])])
    assert unknown.status_code == 404
    assert site.lenta.get_feed(ids["alpha"]).category_ids == (tech.id,)


def test_bulk_refresh_makes_the_feeds_due_now(site: Site, http: httpx.Client, lenta: Lenta) -> None:
    ids = site.ids
    before = lenta.get_feed(ids["alpha"])
    assert before.next_check_at is not None and before.next_check_at > datetime.now(UTC) + timedelta(minutes=5)
    queued = site.bulk(http, op="refresh", feeds=[str(ids["alpha"]), str(ids["beta"])])
    assert queued.status_code == 303
    assert "2 feeds are being refreshed in the background." in http.get(ADMIN).text
    now = datetime.now(UTC)
    for name in ("alpha", "beta"):
        due = lenta.get_feed(ids[name]).next_check_at
        assert due is not None and due <= now
    # What the next due round takes: these two, and the feed never fetched.
    summary = asyncio.run(lenta.refresh())
    assert (summary.ok, summary.failed, summary.new_items) == (3, 0, 1)


def test_bulk_forms_need_the_csrf_token_a_choice_and_feeds(site: Site, http: httpx.Client) -> None:
    ids = site.ids
    forged = http.post(f"{ADMIN}/bulk", data={"csrf_token": "forged", "op": "delete", "confirm": "1", "feeds": str(ids["alpha"])})
    assert forged.status_code == 403
    no_op = site.bulk(http, feeds=[str(ids["alpha"])])
    assert no_op.status_code == 303 and "Choose an action." in http.get(ADMIN).text
    none_ticked = site.bulk(http, op="delete", confirm="1")
    assert none_ticked.status_code == 303 and "Tick the feeds to act on first." in http.get(ADMIN).text
    junk = site.bulk(http, op="delete", confirm="1", feeds=["x", "-1", "99999999999999999999"])
    assert junk.status_code == 303
    assert len(site.lenta.list_feeds()) == 4
    with client(site.web) as anonymous:
        token = form_token(anonymous.get("/user/login").text)
        refused = anonymous.post(f"{ADMIN}/bulk", data={"csrf_token": token, "op": "delete", "confirm": "1", "feeds": "1"})
    assert refused.status_code == 303 and refused.headers["location"].startswith("/user/login")
    assert len(site.lenta.list_feeds()) == 4


def test_refresh_now_wakes_the_background_refresher(lenta: Lenta, settings: Settings) -> None:
    """The refresher looks for due feeds once an hour here: a refetch within
    seconds of "refresh now" is the wake's doing."""
    lenta.add_user("admin", PASSWORD, is_admin=True)
    routes = {
        "/feed.xml": Reply(body=feed_xml(2, "Woken"), headers=RSS),
        "/first.xml": Reply(body=feed_xml(1, "First round"), headers=RSS),
    }
    with LocalServer(routes) as feeds:
        feed = asyncio.run(lenta.add_and_fetch(feeds.url("/feed.xml")))
        first = asyncio.run(lenta.add_feed(feeds.url("/first.xml"), discover=False))  # due: the refresher's first round
        background = settings.replace(scheduler=True, scheduler_tick=3600.0)
        with AppServer(create_app(background, lenta)) as web, client(web) as http:
            sign_in(http)
            wait_for(lambda: lenta.get_feed(first.id).checked_at is not None, "the refresher's first round")
            fetched = feeds.paths.count("/feed.xml")
            token = form_token(http.get(ADMIN).text)
            queued = http.post(f"{ADMIN}/bulk", data={"csrf_token": token, "op": "refresh", "feeds": str(feed.id)})
            assert queued.status_code == 303
            wait_for(lambda: feeds.paths.count("/feed.xml") > fetched, "the refetch", 15)
    after = lenta.get_feed(feed.id)
    assert after.checked_at is not None and after.checked_at > (feed.checked_at or after.checked_at)


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.browser
def test_in_chromium_tick_delete_confirm_filter_and_act_on_all_shown(site: Site, request: pytest.FixtureRequest) -> None:
    """The forms as a browser submits them, without JavaScript: the row
    checkboxes sit outside the bulk form and join it by their form attribute."""
    from playwright.sync_api import Page

    page: Page = request.getfixturevalue("browser_page")
    violations = csp_violations(page)
    ids = site.ids
    page.goto(site.web.url(ADMIN))
    page.fill("#edit-name", "admin")
    page.fill("#edit-pass", PASSWORD)
    page.click("#edit-submit")
    page.wait_for_url(site.web.url(ADMIN))
    page.check(f"#feed-{ids['alpha']} input[name=feeds]")
    page.check(f"#feed-{ids['dead']} input[name=feeds]")
    page.select_option("#bulk-op", "delete")
    page.click("#feed-bulk button[type=submit]")
    assert page.locator("ul.bulk-feeds li").count() == 2
    page.click("#edit-submit")
    page.wait_for_url(site.web.url(ADMIN))
    assert sorted(feed.id for feed in site.lenta.list_feeds()) == sorted([ids["beta"], ids["new"]])
    assert "Удалены 2 ленты." in page.inner_text(".messages")

    page.fill("#filter-q", "weekly")
    page.click("form.feed-filter button[type=submit]")
    page.wait_for_url("**/aggregator?q=weekly*")
    assert page.locator("tr.feed-row").count() == 1
    category = site.lenta.add_category("Picked")
    page.reload()
    page.select_option("#bulk-op", "move")
    page.select_option("#bulk-category", str(category.id))
    page.check("input[name=all_shown]")
    page.click("#feed-bulk button[type=submit]")
    page.wait_for_url("**/aggregator?q=weekly")
    assert [feed.id for feed in site.lenta.list_feeds(category_id=category.id)] == [ids["beta"]]
    assert violations == []


# -- the storage behind them, on every backend -------------------------------------


def test_storage_bulk_methods(storage: Storage) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    a, b, c = (storage.feeds.add(f"https://example.com/{n}.xml", now=now).id for n in range(3))
    cat = storage.categories.add("One")
    other = storage.categories.add("Two")
    assert storage.feeds.add_to_category([a, b, 424242], cat.id) == 2
    assert storage.feeds.add_to_category([a], other.id) == 1
    assert storage.feeds.get(a).category_ids == tuple(sorted((cat.id, other.id)))
    assert storage.feeds.add_to_category([a, c], other.id, only=True) == 2
    assert storage.feeds.get(a).category_ids == (other.id,)
    assert storage.feeds.get(b).category_ids == (cat.id,)
    assert storage.feeds.get(c).category_ids == (other.id,)
    later = now + timedelta(hours=1)
    assert storage.feeds.change_each([a, c, 424242], FeedChanges(next_check_at=later, gone=True)) == 2
    assert [storage.feeds.get(feed_id).gone for feed_id in (a, b, c)] == [True, False, True]
    assert storage.feeds.get(c).next_check_at == later
    assert storage.feeds.delete_many([a, b, a, 424242]) == 2
    assert [feed.id for feed in storage.feeds.list()] == [c]
    assert storage.feeds.delete_many([]) == 0
