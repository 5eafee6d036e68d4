"""The Fever API (issue 12) over real HTTP, as Fever clients call it: the
``api_key`` (md5 of "name:app password") in a form body, selectors in the
query string or the body, several at once; every selector and ``mark``
form with its answer checked; bad, revoked and misplaced keys; one user's
ids ignored for another; paging through 1,000 items with ``since_id`` and
``max_id`` without loss or repetition."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from httpserver import LocalServer
from httpserver import Reply
from test_reader import RSS
from test_reader import feed_xml
from test_web import PASSWORD
from webserver import AppServer

from lenta.config import Settings
from lenta.config import load_settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.reader import Reader
from lenta.types import User
from lenta.web import create_app
from lenta.web.favicon import favicon_png

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
PATHS = ("/fever/", "/fever", "/api/fever.php")
PNG = favicon_png()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def big_feed(count: int) -> bytes:
    items = "".join(
        f"<item><title>Item {n}</title><link>https://example.com/many/{n}</link><guid>many-{n}</guid>"
        f"<pubDate>{format_datetime(T0 - timedelta(minutes=count - n), usegmt=True)}</pubDate>"
        f"<description>Text {n}</description></item>"
        for n in range(1, count + 1)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Many</title><link>https://example.com/many</link>'
        f"{items}</channel></rss>"
    ).encode()


def iconic_feed() -> bytes:
    return (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Iconic</title><link>https://example.com/i</link>'
        b"<image><url>/logo.png</url><title>x</title><link>https://example.com/i</link></image>"
        b"<item><title>Pictured</title><link>https://example.com/i/1</link><guid>i-1</guid><author>Ann</author>"
        b"<description>&lt;p&gt;With a picture&lt;/p&gt;</description></item></channel></rss>"
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def settings(backend_url: str) -> Settings:
    """conftest's settings, on SQLite and on PostgreSQL (when configured)."""
    return load_settings(
        {},
        db=backend_url,
        fetch_allow="127.0.0.1,::1",
        scheduler=False,
        fetch_timeout=5.0,
        fetch_deadline=10.0,
        host_interval=0.0,
        allowed_hosts="localhost,127.0.0.1,::1,testserver",
    )


@pytest.fixture
def timed(settings: Settings, clock: Clock) -> Iterator[Lenta]:
    """A facade whose clock the test moves: items arrive when it says."""
    instance = make_lenta(settings, clock=clock)
    yield instance
    instance.close()


@pytest.fixture
def site(timed: Lenta, settings: Settings) -> Iterator[tuple[AppServer, LocalServer]]:
    routes = {
        "/alpha.xml": Reply(body=feed_xml("Alpha", range(1, 6)), headers=RSS),
        "/beta.xml": Reply(body=feed_xml("Beta", range(1, 4)), headers=RSS),
        "/gamma.xml": Reply(body=feed_xml("Gamma", range(1, 3)), headers=RSS),
        "/iconic.xml": Reply(body=iconic_feed(), headers=RSS),
        "/logo.png": Reply(body=PNG, headers={"Content-Type": "image/png"}),
        "/many.xml": Reply(body=big_feed(1000), headers=RSS),
    }
    with LocalServer(routes) as feeds, AppServer(create_app(settings, timed)) as web:
        yield web, feeds


def fever_key(name: str, password: str) -> str:
    return hashlib.md5(f"{name}:{password}".encode()).hexdigest()


class Client:
    """A Fever client: POSTs ``api_key`` as a form, selectors in the query string."""

    def __init__(self, web: AppServer, key: str, path: str = "/fever/") -> None:
        self.web, self.key, self.path = web, key, path

    def call(self, query: str = "", /, **form: object) -> dict[str, Any]:
        url = self.web.url(f"{self.path}?api{'&' + query if query else ''}")
        response = httpx.post(url, data={"api_key": self.key, **{k: str(v) for k, v in form.items()}})
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
        answer: dict[str, Any] = response.json()
        assert answer["api_version"] == 3
        return answer

    def ok(self, query: str = "", /, **form: object) -> dict[str, Any]:
        answer = self.call(query, **form)
        assert answer["auth"] == 1 and isinstance(answer["last_refreshed_on_time"], int)
        return answer

    def unread(self) -> set[int]:
        return ids(self.ok("unread_item_ids")["unread_item_ids"])

    def saved(self) -> set[int]:
        return ids(self.ok("saved_item_ids")["saved_item_ids"])


def ids(text: str) -> set[int]:
    assert isinstance(text, str)
    return {int(part) for part in text.split(",")} if text else set()


def user_with_key(lenta: Lenta, name: str) -> tuple[User, str]:
    user = lenta.add_user(name, PASSWORD)
    secret = lenta.add_credential(user, "phone").secret
    return user, fever_key(name, secret)


def follow(reader: Reader, url: str, folder_ids: tuple[int, ...] = ()) -> int:
    return asyncio.run(reader.follow(url, folder_ids=folder_ids)).id


def item_ids_of(reader: Reader, subscription_id: int) -> list[int]:
    return sorted(e.item.id for e in reader.items("all", subscription_id=subscription_id, per_page=200).items)


# -- auth -----------------------------------------------------------------------------------


def test_auth_by_app_password_key_on_every_path_and_every_way_of_sending_it(
    site: tuple[AppServer, LocalServer], timed: Lenta
) -> None:
    web, _ = site
    ann, key = user_with_key(timed, "ann")
    for path in PATHS:
        assert Client(web, key, path).ok()["auth"] == 1
        assert Client(web, key.upper(), path).ok()["auth"] == 1  # hex in any case
    # GET with everything in the query string; a multipart body; a form claiming another type; JSON.
    got = httpx.get(web.url(f"/fever/?api&api_key={key}&unread_item_ids"))
    assert got.json()["auth"] == 1 and got.json()["unread_item_ids"] == ""
    multipart = httpx.post(web.url("/api/fever.php?api"), data={"api_key": key}, files={"x": ("x.txt", b"x")})
    assert multipart.json()["auth"] == 1
    claimed = httpx.post(web.url("/fever/?api"), content=f"api_key={key}&groups", headers={"Content-Type": "text/plain"})
    assert claimed.json()["auth"] == 1 and claimed.json()["groups"] == []
    as_json = httpx.post(web.url("/fever/?api"), json={"api_key": key, "feeds": ""})
    assert as_json.json()["auth"] == 1 and as_json.json()["feeds"] == []
    no_type = httpx.post(web.url("/fever/?api&links"), content=f"api_key={key}".encode())
    assert no_type.json()["auth"] == 1 and no_type.json()["links"] == []


def test_bad_keys_answer_auth_0_and_nothing_else(site: tuple[AppServer, LocalServer], timed: Lenta) -> None:
    web, _ = site
    ann, key = user_with_key(timed, "ann")
    bob = timed.add_user("bob", PASSWORD)
    api_key = timed.add_credential(ann, "script", "api_key").secret
    phone = timed.credentials(ann)[0]
    refused = {"api_version": 3, "auth": 0}
    for bad in (
        "",
        "not-a-key",
        "0" * 32,
        key[:-1],
        key + "0",
        fever_key("ann", PASSWORD),  # the account's password: only app passwords make Fever keys
        fever_key("ann", api_key),  # an API key is Miniflux's, not an app password
        fever_key("bob", "whatever"),
    ):
        for path in PATHS:
            assert Client(web, bad, path).call("groups&feeds&items&unread_item_ids") == refused
    assert httpx.post(web.url("/fever/?api&items")).json() == refused  # no key at all
    assert httpx.get(web.url("/fever/")).json() == refused
    # The other user's name with ann's app password is no key either.
    secret = timed.add_credential(ann, "tablet").secret
    assert Client(web, fever_key("bob", secret)).call() == refused
    assert Client(web, fever_key("ann", secret)).ok()["auth"] == 1
    # Revoked: refused from then on; the others still work.
    timed.revoke_credential(ann, phone.id)
    assert Client(web, key).call("items") == refused
    assert Client(web, fever_key("ann", secret)).ok()["auth"] == 1
    assert bob.name == "bob"
    # The key's use is noted (the app passwords page shows it).
    assert [c.last_used_at is not None for c in timed.credentials(ann) if c.name == "tablet"] == [True]


# -- reading --------------------------------------------------------------------------------


def test_groups_feeds_favicons_items_and_id_lists(site: tuple[AppServer, LocalServer], timed: Lenta) -> None:
    web, feeds = site
    ann, key = user_with_key(timed, "ann")
    reader = timed.reader(ann)
    news = reader.add_folder("News")
    inner = reader.add_folder("Inner", news.id)
    other = reader.add_folder("Other")
    empty = reader.add_folder("Empty")
    twin = reader.add_folder("News", other.id)  # a second "News", under Other: shown with its path
    alpha = follow(reader, feeds.url("/alpha.xml"), (news.id,))
    beta = follow(reader, feeds.url("/beta.xml"), (inner.id, other.id))
    gamma = follow(reader, feeds.url("/gamma.xml"))  # in no folder: in no group
    iconic = follow(reader, feeds.url("/iconic.xml"), (twin.id,))
    asyncio.run(timed.refresh_icons())
    client = Client(web, key)

    answer = client.ok("groups")
    titles = {g["id"]: g["title"] for g in answer["groups"]}
    assert titles == {news.id: "News", inner.id: "Inner", other.id: "Other", empty.id: "Empty", twin.id: "Other / News"}
    membership = {g["group_id"]: g["feed_ids"] for g in answer["feeds_groups"]}
    # A folder's group holds its inner folders' feeds too; a feed in two folders is in two groups.
    assert membership == {
        news.id: ",".join(str(i) for i in sorted((alpha, beta))),
        inner.id: str(beta),
        other.id: ",".join(str(i) for i in sorted((beta, iconic))),
        twin.id: str(iconic),
    }
    assert all(isinstance(g["feed_ids"], str) for g in answer["feeds_groups"])
    assert str(gamma) not in ",".join(membership.values())

    answer = client.ok("feeds")
    listed = {f["id"]: f for f in answer["feeds"]}
    assert set(listed) == {alpha, beta, gamma, iconic}
    assert listed[alpha] == {
        "id": alpha,
        "favicon_id": 0,
        "title": "Alpha",
        "url": feeds.url("/alpha.xml"),
        "site_url": "https://example.com/Alpha",
        "is_spark": 0,
        "last_updated_on_time": int(T0.timestamp()),
    }
    assert listed[iconic]["favicon_id"] == iconic
    assert {g["group_id"] for g in answer["feeds_groups"]} == set(membership)

    favicons = client.ok("favicons")["favicons"]
    assert [f["id"] for f in favicons] == [iconic]
    assert favicons[0]["data"].startswith("image/png;base64,")

    answer = client.ok("items")
    assert answer["total_items"] == 5 + 3 + 2 + 1 and len(answer["items"]) == 11
    assert [i["id"] for i in answer["items"]] == sorted(i["id"] for i in answer["items"])  # oldest first
    pictured = next(i for i in answer["items"] if i["feed_id"] == iconic)
    assert pictured == {
        "id": pictured["id"],
        "feed_id": iconic,
        "title": "Pictured",
        "author": "Ann",
        "html": "<p>With a picture</p>",
        "url": "https://example.com/i/1",
        "is_saved": 0,
        "is_read": 0,
        "created_on_time": int(T0.timestamp()),  # no date in the feed: when it arrived
    }
    alpha_1 = next(i for i in answer["items"] if i["title"] == "Alpha 1")
    assert alpha_1["created_on_time"] == int(datetime(2026, 11, 1, 1, tzinfo=UTC).timestamp())
    assert alpha_1["url"] == "https://example.com/Alpha/1" and alpha_1["html"] == "<p>Body 1</p>"

    # Filters: feed_ids, group_ids (with the folders inside), group 0 = everything.
    by_feed = client.ok("items", feed_ids=f"{alpha},{gamma}")["items"]
    assert {i["feed_id"] for i in by_feed} == {alpha, gamma} and len(by_feed) == 7
    by_group = client.ok("items", group_ids=str(news.id))["items"]
    assert {i["feed_id"] for i in by_group} == {alpha, beta}
    assert len(client.ok("items", group_ids="0")["items"]) == 11
    assert client.ok("items", group_ids=str(empty.id))["items"] == []

    # Id lists: comma-separated strings; links: none (lenta has no hot links).
    everything = {i["id"] for i in answer["items"]}
    assert client.unread() == everything and client.saved() == set()
    assert client.ok("links")["links"] == []

    # Several selectors in one request, some in the body.
    together = client.ok("groups&feeds", favicons="", items="", links="", unread_item_ids="", saved_item_ids="")
    assert {"groups", "feeds", "feeds_groups", "favicons", "items", "total_items", "links", "unread_item_ids"} <= set(together)
    assert together["saved_item_ids"] == "" and ids(together["unread_item_ids"]) == everything
    # No selector: the auth answer alone.
    assert set(client.ok()) == {"api_version", "auth", "last_refreshed_on_time"}
    assert client.ok()["last_refreshed_on_time"] == int(T0.timestamp())


def test_items_since_max_and_with_ids(site: tuple[AppServer, LocalServer], timed: Lenta) -> None:
    web, feeds = site
    ann, key = user_with_key(timed, "ann")
    reader = timed.reader(ann)
    alpha = follow(reader, feeds.url("/alpha.xml"))
    beta = follow(reader, feeds.url("/beta.xml"))
    every = item_ids_of(reader, alpha) + item_ids_of(reader, beta)
    client = Client(web, key)
    assert [i["id"] for i in client.ok("items&since_id=0")["items"]] == sorted(every)
    assert [i["id"] for i in client.ok(f"items&since_id={every[2]}")["items"]] == sorted(every)[3:]
    assert client.ok(f"items&since_id={max(every)}")["items"] == []
    assert [i["id"] for i in client.ok("items&max_id=0")["items"]] == sorted(every, reverse=True)  # 0: the newest
    assert [i["id"] for i in client.ok(f"items&max_id={every[2]}")["items"]] == sorted(every)[:2][::-1]
    assert client.ok(f"items&max_id={min(every)}")["items"] == []
    wanted = [every[4], every[0], 999_999, every[6]]
    found = client.ok("items", with_ids=",".join(map(str, wanted)) + ",x,-3")["items"]
    assert [i["id"] for i in found] == sorted((every[0], every[4], every[6]))
    assert client.ok("items&with_ids=")["items"] == [] and client.ok("items&with_ids=")["total_items"] == 8


# -- marking --------------------------------------------------------------------------------


def test_mark_items_read_unread_saved_unsaved(site: tuple[AppServer, LocalServer], timed: Lenta) -> None:
    web, feeds = site
    ann, key = user_with_key(timed, "ann")
    reader = timed.reader(ann)
    alpha = follow(reader, feeds.url("/alpha.xml"))
    first, second, *rest = item_ids_of(reader, alpha)
    client = Client(web, key)

    answer = client.ok(mark="item", **{"as": "read"}, id=first)
    assert ids(answer["unread_item_ids"]) == {second, *rest}  # the list again, after the mark (as FreshRSS)
    assert reader.item(first).read and not reader.item(second).read
    assert client.unread() == {second, *rest}
    client.ok(mark="item", **{"as": "unread"}, id=first)
    assert not reader.item(first).read and client.unread() == {first, second, *rest}

    answer = client.ok(mark="item", **{"as": "saved"}, id=second)
    assert ids(answer["saved_item_ids"]) == {second} and reader.item(second).starred
    client.ok(mark="item", **{"as": "saved"}, id=second)  # saving twice keeps it saved (no toggle)
    assert client.saved() == {second}
    items = {i["id"]: i for i in client.ok("items")["items"]}
    assert items[second]["is_saved"] == 1 and items[first]["is_saved"] == 0
    client.ok(mark="item", **{"as": "unsaved"}, id=second)
    assert client.saved() == set() and not reader.item(second).starred

    # In the query string, as some clients send it; an unknown id or state is ignored.
    client.ok(f"mark=item&as=read&id={rest[0]}")
    assert reader.item(rest[0]).read
    client.ok(mark="item", **{"as": "read"}, id=999_999)
    client.ok(mark="item", **{"as": "sideways"}, id=rest[1])
    assert not reader.item(rest[1]).read
    read_flags = {i["id"]: i["is_read"] for i in client.ok("items")["items"]}
    assert read_flags[rest[0]] == 1 and read_flags[rest[1]] == 0


def test_mark_feed_and_group_read_before_a_time(site: tuple[AppServer, LocalServer], timed: Lenta, clock: Clock) -> None:
    web, feeds = site
    ann, key = user_with_key(timed, "ann")
    reader = timed.reader(ann)
    news = reader.add_folder("News")
    inner = reader.add_folder("Inner", news.id)
    alpha = follow(reader, feeds.url("/alpha.xml"), (news.id,))
    beta = follow(reader, feeds.url("/beta.xml"), (inner.id,))
    gamma = follow(reader, feeds.url("/gamma.xml"))
    client = Client(web, key)
    seen = int(clock.now.timestamp()) + 60  # when the client last asked for items

    # New items arrive an hour later: they stay unread when the feed is marked read "before".
    clock.now = T0 + timedelta(hours=1)
    feeds.routes["/alpha.xml"] = Reply(body=feed_xml("Alpha", range(1, 8)), headers=RSS)
    asyncio.run(timed.refresh([reader.subscription(alpha).feed_id]))
    old_alpha, new_alpha = item_ids_of(reader, alpha)[:5], item_ids_of(reader, alpha)[5:]
    assert len(new_alpha) == 2
    answer = client.ok(mark="feed", **{"as": "read"}, id=alpha, before=seen)
    assert ids(answer["unread_item_ids"]) == set(new_alpha) | set(item_ids_of(reader, beta)) | set(item_ids_of(reader, gamma))
    assert all(reader.item(i).read for i in old_alpha) and not any(reader.item(i).read for i in new_alpha)

    # A group: its feeds and those of the folders inside it; before missing = now.
    client.ok(mark="group", **{"as": "read"}, id=news.id)
    assert client.unread() == set(item_ids_of(reader, gamma))
    # Sparks (-1) and unknown ids: nothing.
    client.ok(mark="group", **{"as": "read"}, id=-1)
    client.ok(mark="group", **{"as": "read"}, id=999_999)
    client.ok(mark="feed", **{"as": "read"}, id=999_999)
    client.ok(mark="feed", **{"as": "read"}, id=gamma, before=-5)
    assert client.unread() == set(item_ids_of(reader, gamma))
    # Group 0, Fever's "Kindling": everything.
    reader.mark_unread(old_alpha[:1])
    client.ok(mark="group", **{"as": "read"}, id=0, before=int(clock.now.timestamp()) + 1)
    assert client.unread() == set()
    assert all(f.unread == 0 for f in reader.followed())


# -- isolation ------------------------------------------------------------------------------


def test_one_users_ids_are_ignored_for_another(site: tuple[AppServer, LocalServer], timed: Lenta) -> None:
    web, feeds = site
    ann, _ = user_with_key(timed, "ann")
    bob, bob_key = user_with_key(timed, "bob")
    reader = timed.reader(ann)
    folder = reader.add_folder("Mine")
    alpha = follow(reader, feeds.url("/alpha.xml"), (folder.id,))
    item_id = item_ids_of(reader, alpha)[0]
    reader.star(item_id)
    bob_client = Client(web, bob_key)

    everything = bob_client.ok("groups&feeds&favicons&items&links&unread_item_ids&saved_item_ids")
    assert everything["groups"] == [] and everything["feeds"] == [] and everything["feeds_groups"] == []
    assert everything["favicons"] == [] and everything["items"] == [] and everything["total_items"] == 0
    assert everything["unread_item_ids"] == "" and everything["saved_item_ids"] == ""
    assert bob_client.ok("items", with_ids=str(item_id))["items"] == []
    assert bob_client.ok("items", feed_ids=str(alpha))["items"] == []
    assert bob_client.ok("items", group_ids=str(folder.id))["items"] == []
    assert bob_client.ok(f"items&max_id={item_id + 10}")["items"] == []
    for form in (
        {"mark": "item", "as": "read", "id": item_id},
        {"mark": "item", "as": "unsaved", "id": item_id},
        {"mark": "feed", "as": "read", "id": alpha},
        {"mark": "group", "as": "read", "id": folder.id},
        {"mark": "group", "as": "read", "id": 0},  # bob's everything is not ann's
    ):
        answer = bob_client.ok(**form)
        assert answer.get("unread_item_ids", "") == "" and answer.get("saved_item_ids", "") == ""
    assert reader.followed()[0].unread == 5 and reader.item(item_id).starred
    # Following the same feed gives bob his own subscription id and his own states.
    bobs = follow(timed.reader(bob), feeds.url("/alpha.xml"))
    assert bobs != alpha and len(bob_client.unread()) == 5 and bob_client.saved() == set()


# -- paging ---------------------------------------------------------------------------------


def test_paging_through_1000_items_without_loss_or_repetition(site: tuple[AppServer, LocalServer], timed: Lenta) -> None:
    web, feeds = site
    timed.save_site_settings({"items_per_fetch": "2000"})
    ann, key = user_with_key(timed, "ann")
    reader = timed.reader(ann)
    many = follow(reader, feeds.url("/many.xml"))
    follow(reader, feeds.url("/gamma.xml"))
    client = Client(web, key, "/api/fever.php")
    unread = client.unread()
    assert len(unread) == 1002

    # Forwards: since_id, the highest id so far, until an empty page.
    forwards: list[int] = []
    since, requests = 0, 0
    while True:
        answer = client.ok(f"items&since_id={since}")
        requests += 1
        page = [i["id"] for i in answer["items"]]
        assert answer["total_items"] == 1002 and len(page) <= 50 and page == sorted(page)
        if not page:
            break
        forwards += page
        since = page[-1]
    assert requests == 22 and len(forwards) == len(set(forwards)) == 1002 and set(forwards) == unread

    # Backwards: max_id, the lowest id so far (0 first), until an empty page.
    backwards: list[int] = []
    lowest = 0
    while True:
        page = [i["id"] for i in client.ok(f"items&max_id={lowest}")["items"]]
        assert len(page) <= 50 and page == sorted(page, reverse=True)
        if not page:
            break
        backwards += page
        lowest = page[-1]
    assert backwards == sorted(unread, reverse=True)

    # One feed, read half, the rest by with_ids in fifties.
    answer = client.ok("items", feed_ids=str(many), since_id="0")
    assert {i["feed_id"] for i in answer["items"]} == {many}
    half = sorted(unread)[:500]
    for start in range(0, len(half), 50):
        chunk = half[start : start + 50]
        shown = client.ok("items", with_ids=",".join(map(str, chunk)))["items"]
        assert [i["id"] for i in shown] == chunk
        for item_id in chunk[:5]:
            client.ok(mark="item", **{"as": "read"}, id=item_id)
    assert len(client.unread()) == 1002 - 50
