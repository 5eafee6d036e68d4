"""The Nextcloud News API v1.2 and v1.3 (issue 12) against lenta over real
HTTP, on SQLite and PostgreSQL: every endpoint, called as newsboat's
``ocnews`` backend calls it (PUT with a ``{}`` body claimed as a form,
``newestItemId`` LONG_MAX, 200 on every call) and as the v1.3 docs say;
item ids, feed and guid hash, and raw guids; auth by app password and
account password, bad and revoked credentials, throttling; one user's ids
answered as unknown to another; paging through 1,000 items by id, both ways,
without loss or repetition; what changed since ``lastModified``."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpserver import LocalServer
from httpserver import Reply
from test_reader import RSS
from test_reader import feed_xml
from test_web import PASSWORD
from webserver import AppServer

from lenta.config import load_settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.web import create_app
from lenta.web.favicon import favicon_png

API = "/index.php/apps/news/api"
LONG_MAX = "9223372036854775807"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}  # what newsboat's curl claims for its "{}" body
START = datetime(2026, 12, 1, tzinfo=UTC)
PNG = favicon_png()


class Clock:
    """Real time moved on by ``shift``: state changes can be put after a sync."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift


def odd_feed() -> bytes:
    """A feed whose guids have what newsboat 2.21 sends unhashed in a path: slashes, a colon, a query."""
    guids = ["tag:example.com,2026:posts/1", "https://example.com/?p=2", "plain-3"]
    entries = "".join(
        f"<item><title>Odd {n}</title><link>https://example.com/odd/{n}</link><guid>{guid}</guid>"
        f"<pubDate>{format_datetime(START + timedelta(hours=n), usegmt=True)}</pubDate>"
        f'<description>Odd body {n}</description><enclosure url="https://example.com/odd/{n}.mp3" type="audio/mpeg" '
        f'length="10"/></item>'
        for n, guid in enumerate(guids, 1)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Odd</title><link>https://example.com/odd</link>'
        f"{entries}</channel></rss>"
    ).encode()


def big_feed(count: int) -> bytes:
    entries = "".join(
        f"<item><title>Big {n}</title><link>https://example.com/big/{n}</link><guid>big-{n}</guid>"
        f"<pubDate>{format_datetime(START + timedelta(minutes=n), usegmt=True)}</pubDate></item>"
        for n in range(1, count + 1)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{entries}</channel></rss>'.encode()


_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def iconic_feed(icon_url: str) -> bytes:
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Iconic</title><link>https://example.com/iconic</link>'
        f"<image><url>{icon_url}</url><title>Iconic</title><link>https://example.com/iconic</link></image>"
        f"<item><title>Iconic 1</title><guid>iconic-1</guid></item></channel></rss>"
    ).encode()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def lenta_db(backend_url: str, tmp_path: Path, clock: Clock) -> Iterator[Lenta]:
    settings = load_settings(
        {},
        db=backend_url,
        fetch_allow="127.0.0.1,::1",
        scheduler=False,
        fetch_timeout=5.0,
        fetch_deadline=10.0,
        host_interval=0.0,
        allowed_hosts="localhost,127.0.0.1,::1,testserver",
    )
    instance = make_lenta(settings, clock=clock)
    yield instance
    instance.close()


@pytest.fixture
def site(lenta_db: Lenta) -> Iterator[tuple[AppServer, LocalServer]]:
    routes = {
        "/alpha.xml": Reply(body=feed_xml("Alpha", range(1, 6)), headers=RSS),
        "/beta.xml": Reply(body=feed_xml("Beta", range(1, 4)), headers=RSS),
        "/odd.xml": Reply(body=odd_feed(), headers=RSS),
        "/big.xml": Reply(body=big_feed(1000), headers=RSS),
        "/page.html": Reply(body=b"<html><head><title>No feed</title></head><body>nothing</body></html>", headers={}),
        "/favicon.ico": Reply(body=PNG, headers={"Content-Type": "image/png"}),
    }
    with LocalServer(routes) as feeds, AppServer(create_app(lenta_db.settings, lenta_db)) as web:
        yield web, feeds


class News:
    """A client of one API level, as a user: every call must answer 200 unless said."""

    def __init__(self, web: AppServer, name: str, password: str, level: str = "v1-2") -> None:
        self.http = httpx.Client(base_url=web.url(f"{API}/{level}/"), auth=(name, password), timeout=30)
        _OPEN.append(self.http)
        self.write = "PUT" if level == "v1-2" else "POST"

    def get(self, path: str, expect: int = 200, **query: Any) -> Any:
        answer = self.http.get(path, params=query)
        assert answer.status_code == expect, (path, answer.status_code, answer.text)
        return answer.json()

    def send(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        if body is None:  # newsboat: a "{}" body claimed as a form
            answer = self.http.request(method, path, content=b"{}", headers=FORM)
        else:
            answer = self.http.request(method, path, json=body)
        assert answer.status_code == expect, (method, path, answer.status_code, answer.text)
        return answer.json()

    def put(self, path: str, body: Any = None, expect: int = 200) -> Any:
        return self.send(self.write, path, body, expect)


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def news_user(web: AppServer, lenta: Lenta, name: str, level: str = "v1-2") -> News:
    user = lenta.add_user(name, PASSWORD)
    return News(web, name, lenta.add_credential(user, "phone").secret, level)


def by_title(found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["title"]: item for item in found}


def test_newsboat_syncs_reads_marks_and_stars_over_v1_2(site: tuple[AppServer, LocalServer], lenta_db: Lenta) -> None:
    web, feeds = site
    news = news_user(web, lenta_db, "ann")
    assert news.get("status")["warnings"] == {"improperlyConfiguredCron": False, "incorrectDbCharset": False}
    assert news.get("version")["version"].count(".") == 2
    assert news.get("user")["userId"] == "ann"
    assert news.get("folders") == {"folders": []}
    assert news.get("feeds") == {"feeds": [], "starredCount": 0}  # no newestItemId without items

    # Folders: create (409 twice, 422 empty), rename, list.
    made = news.send("POST", "folders", {"name": "News"})["folders"]
    assert made == [{"id": made[0]["id"], "name": "News", "opened": True, "feeds": []}]
    news_id = made[0]["id"]
    assert news.send("POST", "folders", {"name": "news"}, expect=409)["message"]
    assert news.send("POST", "folders", {"name": "  "}, expect=422)["message"]
    assert news.send("PUT", f"folders/{news_id}", {"name": "World"}) == []
    other = news.send("POST", "folders", {"name": "Other"})["folders"][0]["id"]
    assert news.send("PUT", f"folders/{other}", {"name": "world"}, expect=409)["message"]
    assert [f["name"] for f in news.get("folders")["folders"]] == ["World", "Other"]

    # Feeds: create in a folder and at the root; the answer is a list of one, with newestItemId.
    alpha = news.send("POST", "feeds", {"url": feeds.url("/alpha.xml"), "folderId": news_id})
    assert [f["title"] for f in alpha["feeds"]] == ["Alpha"] and alpha["newestItemId"] > 0
    alpha_feed = alpha["feeds"][0]
    assert alpha_feed["folderId"] == news_id and alpha_feed["unreadCount"] == 5 and alpha_feed["url"] == feeds.url("/alpha.xml")
    odd_feed_id = news.send("POST", "feeds", {"url": feeds.url("/odd.xml"), "folderId": None})["feeds"][0]["id"]
    assert news.send("POST", "feeds", {"url": feeds.url("/alpha.xml")}, expect=409)["message"]
    assert news.send("POST", "feeds", {"url": feeds.url("/page.html")}, expect=422)["message"]
    listed = news.get("feeds")
    assert {f["id"]: f["folderId"] for f in listed["feeds"]} == {alpha_feed["id"]: news_id, odd_feed_id: None}
    assert listed["starredCount"] == 0 and listed["newestItemId"] >= alpha["newestItemId"]
    assert {"id", "url", "title", "faviconLink", "added", "folderId", "unreadCount", "ordering", "link", "pinned"} <= set(
        listed["feeds"][0]
    )

    # Items of a feed as newsboat asks (no batchSize, no getRead: all of them).
    alpha_items = news.get("items", type=0, id=alpha_feed["id"])["items"]
    # By id, newest first: lenta stores a fetch's items newest first, so Alpha 1 came last.
    assert [i["title"] for i in alpha_items] == ["Alpha 1", "Alpha 2", "Alpha 3", "Alpha 4", "Alpha 5"]
    assert [i["id"] for i in alpha_items] == sorted((i["id"] for i in alpha_items), reverse=True)
    first = alpha_items[0]
    assert first["guid"] == "Alpha-1" and first["guidHash"] == md5("Alpha-1") and first["feedId"] == alpha_feed["id"]
    assert first["unread"] is True and first["starred"] is False and isinstance(first["pubDate"], int)
    assert first["body"] == "<p>Body 1</p>" and first["url"] == "https://example.com/Alpha/1" and first["author"] == ""
    assert isinstance(first["lastModified"], int) and first["lastModified"] > 0
    odd_items = by_title(news.get("items", type=0, id=odd_feed_id)["items"])
    assert odd_items["Odd 1"]["enclosureLink"] == "https://example.com/odd/1.mp3"
    assert odd_items["Odd 1"]["enclosureMime"] == "audio/mpeg"

    # Read and unread, one item (newsboat: PUT, "{}" as a form).
    assert news.put(f"items/{first['id']}/read") == []
    assert news.get("items", type=0, id=alpha_feed["id"], getRead="false")["items"][0]["title"] == "Alpha 2"
    assert news.put(f"items/{first['id']}/unread") == []
    assert len(news.get("items", type=0, id=alpha_feed["id"], getRead="false")["items"]) == 5

    # Star by feed and guid hash (newsboat HEAD) and by the raw guid (newsboat 2.21), a query string and all.
    assert news.put(f"items/{alpha_feed['id']}/{md5('Alpha-2')}/star") == []
    raw = news.http.request("PUT", f"items/{odd_feed_id}/https://example.com/?p=2/star", content=b"{}", headers=FORM)
    assert raw.status_code == 200, raw.text
    assert news.put(f"items/{odd_feed_id}/tag:example.com,2026:posts/1/star") == []
    starred = news.get("items", type=2, id=0)["items"]
    assert {i["title"] for i in starred} == {"Alpha 2", "Odd 1", "Odd 2"} and all(i["starred"] for i in starred)
    assert news.get("feeds")["starredCount"] == 3
    assert [i["title"] for i in news.get("items", type=2, id=odd_feed_id)["items"]] == ["Odd 1", "Odd 2"]
    assert news.put(f"items/{odd_feed_id}/plain-3/unstar") == []  # not starred: nothing to do
    assert news.put(f"items/{odd_feed_id}/{md5('Odd 2')}/star", expect=404)["message"]  # no such guid
    assert news.put(f"items/{odd_feed_id}/https://example.com/?p=2/unstar") == []
    assert news.get("feeds")["starredCount"] == 2
    assert news.get("items", type=2, id=0, getRead="false") == {
        "message": "Setting getRead on an already filtered list is not allowed!"
    }

    # Several at once (newsboat HEAD: PUT items/read/multiple {"items": [...]}); unknown ids are skipped.
    ids = [i["id"] for i in alpha_items[:3]]
    assert news.put("items/read/multiple", {"items": [*ids, 999999999]}) is None
    assert news.get("feeds")["feeds"][0]["unreadCount"] == 2
    assert news.put("items/unread/multiple", {"items": ids[:1]}) is None
    assert {i["title"] for i in news.get("items", type=3, getRead=False)["items"]} == {
        "Alpha 1",
        "Alpha 4",
        "Alpha 5",
        "Odd 1",
        "Odd 2",
        "Odd 3",
    }
    assert news.put("items/star/multiple", {"items": [{"feedId": alpha_feed["id"], "guidHash": md5("Alpha-5")}]}) is None
    assert news.put("items/unstar/multiple", {"items": [{"feedId": alpha_feed["id"], "guidHash": md5("Alpha-2")}]}) is None
    assert {i["title"] for i in news.get("items", type=2)["items"]} == {"Alpha 5", "Odd 1"}

    # Mark a feed read as newsboat does: LONG_MAX in the query string, "{}" as the body.
    assert news.put(f"feeds/{alpha_feed['id']}/read?newestItemId={LONG_MAX}") is None
    counts = {f["id"]: f["unreadCount"] for f in news.get("feeds")["feeds"]}
    assert counts == {alpha_feed["id"]: 0, odd_feed_id: 3}
    assert news.put(f"feeds/{alpha_feed['id']}/read", expect=400)["message"]  # no newestItemId
    # A folder (0: the feeds in none), then everything, up to an id.
    assert news.put("folders/0/read", {"newestItemId": int(LONG_MAX)}) is None
    assert news.get("items", type=3, getRead=False)["items"] == []
    news.put(f"items/{alpha_items[0]['id']}/unread")
    news.put(f"items/{alpha_items[1]['id']}/unread")
    assert news.put("items/read", {"newestItemId": alpha_items[1]["id"]}) is None  # up to Alpha 2's id: Alpha 1 stays
    assert [i["title"] for i in news.get("items", type=3, getRead=False)["items"]] == ["Alpha 1"]
    assert news.put(f"folders/{news_id}/read", {"newestItemId": LONG_MAX}) is None
    assert news.get("items", type=1, id=news_id, getRead=False)["items"] == []

    # Rename, move, delete a feed; delete a folder (lenta keeps its feeds).
    assert news.put(f"feeds/{odd_feed_id}/rename", {"feedTitle": "Strange"}) == []
    assert news.put(f"feeds/{odd_feed_id}/move", {"folderId": other}) == []
    moved = {f["id"]: f for f in news.get("feeds")["feeds"]}[odd_feed_id]
    assert moved["title"] == "Strange" and moved["folderId"] == other
    assert len(news.get("items", type=1, id=other)["items"]) == 3
    assert news.put(f"feeds/{odd_feed_id}/move", {"folderId": 0}) == []
    assert {f["id"]: f for f in news.get("feeds")["feeds"]}[odd_feed_id]["folderId"] is None
    assert len(news.get("items", type=1, id=0)["items"]) == 3
    assert news.put(f"feeds/{odd_feed_id}/move", {"folderId": 987654}, expect=404)["message"]
    assert news.send("DELETE", f"folders/{news_id}") == []
    assert [f["folderId"] for f in news.get("feeds")["feeds"] if f["id"] == alpha_feed["id"]] == [None]
    assert news.send("DELETE", f"feeds/{odd_feed_id}") == []
    assert [f["id"] for f in news.get("feeds")["feeds"]] == [alpha_feed["id"]]
    assert news.send("DELETE", f"feeds/{odd_feed_id}", expect=404)["message"]
    assert news.send("DELETE", f"folders/{news_id}", expect=404)["message"]


def test_v1_3_posts_and_takes_item_ids(site: tuple[AppServer, LocalServer], lenta_db: Lenta) -> None:
    web, feeds = site
    news = news_user(web, lenta_db, "ann", "v1-3")
    levels = httpx.get(web.url(API))
    assert levels.status_code == 200 and levels.json() == {"apiLevels": ["v1-2", "v1-3"]}
    assert news.get("version")["version"] and news.get("status")["version"]
    folder = news.send("POST", "folders", {"name": "Tech"})["folders"][0]["id"]
    feed = news.send("POST", "feeds", {"url": feeds.url("/beta.xml"), "folderId": folder})["feeds"][0]
    found = news.get("items", type=1, id=folder, batchSize=-1)["items"]
    ids = [i["id"] for i in found]
    assert [i["title"] for i in found] == ["Beta 1", "Beta 2", "Beta 3"]  # by id, newest first
    assert news.put("items/read/multiple", {"itemIds": ids[:2]}) is None
    assert [i["id"] for i in news.get("items", type=3, getRead=False)["items"]] == ids[2:]
    assert news.put("items/unread/multiple", {"itemIds": ids[:1]}) is None
    assert news.put(f"items/{ids[0]}/read") == []
    assert news.put(f"items/{ids[0]}/unread") == []
    assert news.put(f"items/{ids[1]}/star") == []
    assert news.put("items/star/multiple", {"itemIds": [ids[2], 123456789]}) is None
    assert sorted(i["id"] for i in news.get("items", type=2)["items"]) == sorted([ids[1], ids[2]])
    assert news.put("items/unstar/multiple", {"itemIds": [ids[2]]}) is None
    assert news.put(f"items/{ids[1]}/unstar") == []
    assert news.get("items", type=2)["items"] == []
    assert news.put(f"items/{123456789}/star", expect=404)["message"]
    assert news.put(f"feeds/{feed['id']}/rename", {"feedTitle": "B"}) == []
    assert news.put(f"feeds/{feed['id']}/move", {"folderId": None}) == []
    assert news.put(f"feeds/{feed['id']}/read", {"newestItemId": ids[1]}) is None
    assert [i["id"] for i in news.get("items", type=0, id=feed["id"], getRead=False)["items"]] == [ids[0]]
    assert news.put(f"folders/{folder}/read", {"newestItemId": ids[0]}) is None  # the feed is no longer in it
    assert news.put("items/read", {"newestItemId": ids[0]}) is None
    assert news.get("items", type=3, getRead=False)["items"] == []
    feeds.routes["/iconic.xml"] = Reply(body=iconic_feed(feeds.url("/favicon.ico")), headers=RSS)
    iconic = news.send("POST", "feeds", {"url": feeds.url("/iconic.xml")})["feeds"][0]["id"]
    assert news.get(f"favicon/{md5(feeds.url('/iconic.xml'))}", expect=404)["message"]  # no icon fetched yet
    asyncio.run(lenta_db.refresh_icons())
    icon = news.http.get(f"favicon/{md5(feeds.url('/iconic.xml'))}")
    assert icon.status_code == 200 and icon.content == PNG and icon.headers["content-type"] == "image/png"
    assert news.get(f"favicon/{md5('https://example.com/nothing.xml')}", expect=404)["message"]
    assert news.send("DELETE", f"feeds/{feed['id']}") == []
    assert news.send("DELETE", f"feeds/{iconic}") == []


def test_the_same_request_in_every_form(site: tuple[AppServer, LocalServer], lenta_db: Lenta) -> None:
    """Parameters in the query string, a JSON body or a form, with or without a Content-Type; PUT and POST on both levels."""
    web, feeds = site
    news = news_user(web, lenta_db, "ann")
    feed = news.send("POST", "feeds", {"url": feeds.url("/alpha.xml")})["feeds"][0]
    ids = [i["id"] for i in news.get("items")["items"]]
    assert news.http.post(f"items/{ids[0]}/read").status_code == 200  # v1.3's method on v1.2
    assert news.http.put(f"items/{ids[1]}/read", content=b'{"ignored": true}').status_code == 200  # no Content-Type
    assert news.http.put(f"feeds/{feed['id']}/rename", data={"feedTitle": "Form"}).status_code == 200
    assert news.get("feeds")["feeds"][0]["title"] == "Form"
    assert news.http.put(f"feeds/{feed['id']}/rename?feedTitle=Query").status_code == 200
    assert news.get("feeds")["feeds"][0]["title"] == "Query"
    assert news.http.put("items/read", content=f'{{"newestItemId": "{LONG_MAX}"}}', headers=FORM).status_code == 200
    assert news.get("feeds")["feeds"][0]["unreadCount"] == 0
    bad = news.http.put("items/read", content=b"{not json", headers=FORM)
    assert bad.status_code == 400 and "message" in bad.json()
    assert news.get("items", type=7, expect=400)["message"]
    missing = news.http.get("nothing/here")
    assert missing.status_code == 404 and missing.json() == {"message": "Not found"}
    preflight = news.http.options("items")
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "*"
    too_big = news.http.put("items/read/multiple", content=b"{" + b" " * (2 * 1024 * 1024) + b"}", headers=FORM)
    assert too_big.status_code == 413


def test_paging_through_1000_items_by_id(site: tuple[AppServer, LocalServer], lenta_db: Lenta) -> None:
    web, feeds = site
    news = news_user(web, lenta_db, "ann")
    folder = news.send("POST", "folders", {"name": "Big"})["folders"][0]["id"]
    feed = news.send("POST", "feeds", {"url": feeds.url("/big.xml"), "folderId": folder})["feeds"][0]
    assert feed["unreadCount"] == 1000

    def walk(**query: Any) -> list[int]:
        seen: list[int] = []
        offset = 0
        while True:
            page = news.get("items", batchSize=100, offset=offset, **query)["items"]
            if not page:
                return seen
            assert len(page) <= 100
            seen.extend(item["id"] for item in page)
            offset = page[-1]["id"]

    newest_first = walk(type=0, id=feed["id"])
    assert len(newest_first) == 1000 and len(set(newest_first)) == 1000 and newest_first == sorted(newest_first, reverse=True)
    oldest_first = walk(type=1, id=folder, oldestFirst="true")
    assert oldest_first == sorted(newest_first)
    assert walk(type=3, getRead="false") == newest_first
    # Everything at once (batchSize -1, newsboat's way): streamed in chunks, the same 1,000.
    whole = news.get("items", type=0, id=feed["id"])["items"]
    assert [i["id"] for i in whole] == newest_first and by_title(whole)["Big 1"]["guid"] == "big-1"
    assert [i["id"] for i in news.get("items", type=0, id=feed["id"], batchSize=700)["items"]] == newest_first[:700]
    tail = news.get("items", type=0, id=feed["id"], batchSize=600, offset=newest_first[299], oldestFirst="false")["items"]
    assert [i["id"] for i in tail] == newest_first[300:900]
    # Half read: the unread walk gives exactly the other half.
    read_half = newest_first[::2]
    news.put("items/read/multiple", {"items": read_half})
    assert walk(type=3, getRead="false") == newest_first[1::2]
    assert news.get("feeds")["feeds"][0]["unreadCount"] == 500
    assert len(news.get("items", type=0, id=feed["id"], getRead="false", batchSize=-1)["items"]) == 500
    assert len(news.get("items/updated", lastModified=0, type=3)["items"]) == 1000


def test_what_changed_since_last_modified(site: tuple[AppServer, LocalServer], lenta_db: Lenta, clock: Clock) -> None:
    web, feeds = site
    news = news_user(web, lenta_db, "ann")
    alpha = news.send("POST", "feeds", {"url": feeds.url("/alpha.xml")})["feeds"][0]["id"]
    beta = news.send("POST", "feeds", {"url": feeds.url("/beta.xml")})["feeds"][0]["id"]
    synced = news.get("items", type=3)["items"]
    assert len(synced) == 8
    last = max(item["lastModified"] for item in synced)
    assert len(news.get("items/updated", lastModified=last, type=3)["items"]) >= 1  # ">=": the newest again
    clock.shift = timedelta(seconds=1000)
    titles = by_title(synced)
    news.put(f"items/{titles['Alpha 1']['id']}/read")
    news.put(f"items/{titles['Beta 2']['id']}/star")
    changed = news.get("items/updated", lastModified=last + 500, type=3)["items"]
    assert {i["title"] for i in changed} == {"Alpha 1", "Beta 2"}
    assert by_title(changed)["Alpha 1"]["unread"] is False and by_title(changed)["Beta 2"]["starred"] is True
    assert all(i["lastModified"] >= last + 1000 for i in changed)
    # Microseconds are read as Nextcloud reads them (more than ten digits).
    in_micro = news.get("items/updated", lastModified=(last + 500) * 1_000_000, type=3)["items"]
    assert {i["id"] for i in in_micro} == {i["id"] for i in changed}
    assert [i["title"] for i in news.get("items/updated", lastModified=last + 500, type=0, id=beta)["items"]] == ["Beta 2"]
    assert [i["title"] for i in news.get("items/updated", lastModified=last + 500, type=2)["items"]] == ["Beta 2"]
    assert news.get("items/updated", lastModified=last + 500, type=1, id=0)["items"] != []
    # Marking a feed read changes every item it covers, and only those.
    clock.shift = timedelta(seconds=2000)
    news.put(f"feeds/{alpha}/read?newestItemId={LONG_MAX}")
    after_mark = news.get("items/updated", lastModified=last + 1500, type=3)["items"]
    assert {i["title"] for i in after_mark} == {f"Alpha {n}" for n in range(1, 6)}
    assert all(i["unread"] is False for i in after_mark)
    # New items arriving are changes too.
    assert news.get("items/updated", lastModified=last + 3000, type=3)["items"] == []
    assert news.get("items/updated", lastModified=int(LONG_MAX), type=3)["items"] == []


def test_auth_forms_bad_and_revoked_credentials(site: tuple[AppServer, LocalServer], lenta_db: Lenta) -> None:
    web, _ = site
    ann = lenta_db.add_user("ann", PASSWORD)
    phone = lenta_db.add_credential(ann, "phone")
    bob = lenta_db.add_user("bob", PASSWORD)
    bobs = lenta_db.add_credential(bob, "laptop")
    url = web.url(f"{API}/v1-2/status")
    assert httpx.get(url, auth=("ann", phone.secret)).status_code == 200
    assert httpx.get(url, auth=("ann", PASSWORD)).status_code == 200
    assert httpx.get(web.url(f"{API}/v1-3/feeds"), auth=("ann", phone.secret)).status_code == 200
    for bad in (
        {},
        {"Authorization": "Basic !!!"},
        {"Authorization": "Bearer " + phone.secret},
        {"Authorization": "Basic " + base64.b64encode(b"ann:").decode()},
    ):
        refused = httpx.get(url, headers=bad)
        assert refused.status_code == 401 and refused.json()["message"]
        assert refused.headers["www-authenticate"].startswith("Basic")
    assert httpx.get(url, auth=("bob", phone.secret)).status_code == 401  # ann's app password is not bob's
    assert httpx.get(url, auth=("ann", bobs.secret)).status_code == 401
    assert httpx.get(url, auth=("nobody", "x")).status_code == 401
    lenta_db.revoke_credential(ann, phone.id)
    assert httpx.get(url, auth=("ann", phone.secret)).status_code == 401
    assert httpx.get(url, auth=("bob", bobs.secret)).status_code == 200
    # Failed logins are throttled as the web's are: 429 once the account is locked, even for the right password.
    statuses = [httpx.get(url, auth=("bob", f"wrong {n}")).status_code for n in range(8)]
    assert statuses[0] == 401 and statuses[-1] == 429
    assert httpx.get(url, auth=("bob", PASSWORD)).status_code == 429


def test_one_users_ids_are_unknown_to_another(site: tuple[AppServer, LocalServer], lenta_db: Lenta) -> None:
    web, feeds = site
    ann, bob = news_user(web, lenta_db, "ann"), news_user(web, lenta_db, "bob")
    folder = ann.send("POST", "folders", {"name": "Mine"})["folders"][0]["id"]
    feed = ann.send("POST", "feeds", {"url": feeds.url("/alpha.xml"), "folderId": folder})["feeds"][0]["id"]
    ann_items = ann.get("items")["items"]
    item = ann_items[0]
    bobs_feed = bob.send("POST", "feeds", {"url": feeds.url("/beta.xml")})["feeds"][0]["id"]
    feeds.routes["/iconic.xml"] = Reply(body=iconic_feed(feeds.url("/favicon.ico")), headers=RSS)
    ann.send("POST", "feeds", {"url": feeds.url("/iconic.xml")})
    asyncio.run(lenta_db.refresh_icons())
    assert ann.http.get(f"favicon/{md5(feeds.url('/iconic.xml'))}").status_code == 200
    for method, path, body in [
        ("PUT", f"folders/{folder}", {"name": "Taken"}),
        ("DELETE", f"folders/{folder}", None),
        ("PUT", f"folders/{folder}/read", {"newestItemId": LONG_MAX}),
        ("DELETE", f"feeds/{feed}", None),
        ("PUT", f"feeds/{feed}/move", {"folderId": None}),
        ("PUT", f"feeds/{feed}/rename", {"feedTitle": "Taken"}),
        ("PUT", f"feeds/{feed}/read", {"newestItemId": LONG_MAX}),
        ("PUT", f"items/{item['id']}/read", None),
        ("PUT", f"items/{item['id']}/unread", None),
        ("PUT", f"items/{item['id']}/star", None),
        ("PUT", f"items/{item['id']}/unstar", None),
        ("PUT", f"items/{feed}/{item['guidHash']}/star", None),
        ("PUT", f"items/{feed}/{item['guid']}/star", None),
        ("PUT", f"items/{feed}/{item['guidHash']}/unstar", None),
        ("PUT", f"feeds/{bobs_feed}/move", {"folderId": folder}),
        ("POST", "feeds", {"url": feeds.url("/odd.xml"), "folderId": folder}),
    ]:
        assert bob.send(method, path, body, expect=404)["message"], (method, path)
    assert bob.get(f"favicon/{md5(feeds.url('/iconic.xml'))}", expect=404)
    for query in ({"type": 0, "id": feed}, {"type": 1, "id": folder}, {"type": 2, "id": feed}):
        assert bob.get("items", **query)["items"] == []
        assert bob.get("items/updated", lastModified=0, **query)["items"] == []
    assert {i["feedId"] for i in bob.get("items")["items"]} == {bobs_feed}
    ids = [i["id"] for i in ann_items]
    assert bob.put("items/read/multiple", {"items": ids}) is None
    assert bob.put("items/star/multiple", {"items": [{"feedId": feed, "guidHash": item["guidHash"]}]}) is None
    assert bob.send("POST", "items/star/multiple", {"itemIds": ids}) is None
    assert bob.put("items/read", {"newestItemId": LONG_MAX}) is None
    # Nothing of ann's changed.
    assert ann.get("folders")["folders"] == [{"id": folder, "name": "Mine", "opened": True, "feeds": []}]
    mine = ann.get("feeds")
    assert [(f["title"], f["folderId"], f["unreadCount"]) for f in mine["feeds"]] == [("Alpha", folder, 5), ("Iconic", None, 1)]
    assert mine["starredCount"] == 0
    assert bob.get("feeds")["starredCount"] == 0 and [f["id"] for f in bob.get("feeds")["feeds"]] == [bobs_feed]
