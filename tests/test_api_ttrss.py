"""The Tiny Tiny RSS API (issue 12) over real HTTP, called as newsboat's
``ttrss`` backend and TT-RSS's other clients call it: every op listed
(login, logout, isLoggedIn, getApiLevel, getVersion, getUnread,
getCounters, getFeeds, getCategories, getHeadlines, getArticle,
updateArticle, catchupFeed, subscribeToFeed, unsubscribeFeed,
getFeedTree), the special feeds and categories, the switch on the user's
settings page, sessions (app password, account password, revoked, forged,
logged out, API turned off), paging through 1,000 items once each; another
user's ids change and show nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from httpserver import LocalServer
from httpserver import Reply
from pagetext import parse_page
from test_reader import NEWEST
from test_reader import RSS
from test_reader import feed_xml
from test_web import PASSWORD
from test_web import form_token
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.types import User
from lenta.web import create_app

NEWSBOAT = {"Content-Type": "application/x-www-form-urlencoded"}  # what newsboat 2.21 claims for its JSON


def big_feed(count: int) -> bytes:
    items = "".join(
        f"<item><title>Big {n}</title><guid>big-{n}</guid><link>https://example.com/big/{n}</link>"
        f"<pubDate>{format_datetime(NEWEST - timedelta(minutes=n), usegmt=True)}</pubDate></item>"
        for n in range(count)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()


def podcast() -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Cast</title><link>https://example.com/cast</link>'
        "<item><title>Episode 1</title><guid>ep-1</guid><link>https://example.com/cast/1</link>"
        f"<pubDate>{format_datetime(NEWEST, usegmt=True)}</pubDate><description>&lt;p&gt;Show notes&lt;/p&gt;</description>"
        '<category>audio</category><enclosure url="https://example.com/cast/1.mp3" type="audio/mpeg" length="1234"/>'
        "</item></channel></rss>"
    ).encode()


@pytest.fixture
def site(lenta: Lenta, settings: Settings) -> Iterator[tuple[AppServer, LocalServer]]:
    routes = {
        "/alpha.xml": Reply(body=feed_xml("Alpha", range(1, 6)), headers=RSS),
        "/beta.xml": Reply(body=feed_xml("Beta", range(1, 4)), headers=RSS),
        "/cast.xml": Reply(body=podcast(), headers=RSS),
        "/big.xml": Reply(body=big_feed(1000), headers=RSS),
        "/page.html": Reply(body=b"<html><body><p>No feed here</p></body></html>", headers={"Content-Type": "text/html"}),
    }
    with LocalServer(routes) as feeds, AppServer(create_app(settings, lenta)) as web:
        yield web, feeds


class Client:
    """A TT-RSS client: every argument a string, as newsboat sends them."""

    def __init__(self, web: AppServer, path: str = "/api/") -> None:
        self.http = httpx.Client(base_url=web.url(""))
        self.path = path
        self.sid = ""

    def call(self, op: str, *, raw: bool = False, **args: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"op": op, **({"sid": self.sid} if self.sid else {})}
        body.update(args if raw else {key: str(value) for key, value in args.items()})
        answer = self.http.post(self.path, content=json.dumps(body).encode(), headers=NEWSBOAT)
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json", answer.text
        found: dict[str, Any] = answer.json()
        assert set(found) == {"seq", "status", "content"}, found
        return found

    def ok(self, op: str, **args: Any) -> Any:
        found = self.call(op, **args)
        assert found["status"] == 0, (op, found)
        return found["content"]

    def error(self, op: str, **args: Any) -> str:
        found = self.call(op, **args)
        assert found["status"] == 1, (op, found)
        return str(found["content"]["error"])

    def login(self, user: str, password: str) -> dict[str, Any]:
        content: dict[str, Any] = self.ok("login", user=user, password=password)
        self.sid = content["session_id"]
        return content

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def user_with_api(lenta: Lenta, name: str) -> tuple[User, str]:
    user = lenta.add_user(name, PASSWORD)
    lenta.set_ttrss_api_enabled(user, True)
    return user, lenta.add_credential(user, "newsboat").secret


def follow(lenta: Lenta, user: User, url: str, folder_ids: tuple[int, ...] = ()) -> int:
    return asyncio.run(lenta.reader(user).follow(url, folder_ids=folder_ids)).id


# -- sessions -----------------------------------------------------------------------------------


def test_the_api_is_off_until_the_user_turns_it_on_in_their_settings(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, _ = site
    ann = lenta.add_user("ann", PASSWORD)
    app = lenta.add_credential(ann, "phone").secret
    client = Client(web)
    assert client.error("login", user="ann", password=app) == "API_DISABLED"
    assert client.error("login", user="ann", password="wrong password") == "LOGIN_ERROR"  # no hint without the password
    with httpx.Client(base_url=web.url(""), follow_redirects=False) as browser:
        token = form_token(browser.get("/user/login").text)
        credentials = {"csrf_token": token, "name": "ann", "pass": PASSWORD, "destination": "/reader"}
        signed = browser.post("/user/login", data=credentials)
        assert signed.status_code == 303
        page = parse_page(browser.get("/user/settings").text)
        box = page.cssselect("#edit-ttrss-api")[0]
        assert box.get("checked") is None and box.get("name") == "ttrss_api"
        form = {"csrf_token": form_token(browser.get("/user/settings").text), "language": "", "time_zone": "", "theme": "system"}
        assert browser.post("/user/settings", data={**form, "per_page": "30", "ttrss_api": "yes"}).status_code == 303
        assert lenta.ttrss_api_enabled(ann)
        assert parse_page(browser.get("/user/settings").text).cssselect("#edit-ttrss-api")[0].get("checked") is not None
        # A bad form saves nothing, the switch neither; the box shows what was sent.
        bad = browser.post("/user/settings", data={**form, "per_page": "5"})
        assert bad.status_code == 400 and parse_page(bad.text).cssselect("#edit-ttrss-api")[0].get("checked") is None
        assert lenta.ttrss_api_enabled(ann)
        content = client.login("ann", app)
        assert content["api_level"] == 23 and isinstance(content["session_id"], str)
        assert content["config"]["num_feeds"] == 0
        assert client.ok("isLoggedIn") == {"status": True}
        # Turned off: the live session is refused too; logging out still works.
        assert browser.post("/user/settings", data={**form, "per_page": "30"}).status_code == 303
    assert not lenta.ttrss_api_enabled(ann)
    assert client.error("getVersion") == "API_DISABLED"
    assert client.error("isLoggedIn") == "API_DISABLED"
    assert client.ok("logout") == {"status": "OK"}
    client.close()


def test_sessions_app_passwords_account_passwords_and_bad_ones(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, _ = site
    ann, app = user_with_api(lenta, "ann")
    client = Client(web)
    # Before login: only login and isLoggedIn answer.
    assert client.ok("isLoggedIn") == {"status": False}
    for op in ("getVersion", "getApiLevel", "getFeeds", "logout", "noSuchOp"):
        assert client.error(op) == "NOT_LOGGED_IN"
    for user, password in (("ann", "wrong password"), ("nobody", PASSWORD), ("", ""), ("ann", app[:-1])):
        assert client.error("login", user=user, password=password) == "LOGIN_ERROR"
    # seq is echoed, as a number.
    assert client.call("isLoggedIn", seq="41")["seq"] == 41
    assert client.call("isLoggedIn")["seq"] == 0

    client.login("ann", app)
    assert client.ok("getApiLevel") == {"level": 23}
    assert client.ok("getVersion")["version"]
    assert client.call("getApiLevel", seq=7)["seq"] == 7
    assert client.error("noSuchOp") == "UNKNOWN_METHOD"
    assert client.call("noSuchOp")["content"]["method"] == "nosuchop"
    assert client.ok("GETAPILEVEL") == {"level": 23}  # ops are case-insensitive, as PHP's methods

    # The account's password opens a session too (no second factor here), a JSON body with real types too.
    other = Client(web, "/tt-rss/api/")
    content = other.call("login", raw=True, user="ann", password=PASSWORD, seq=3)
    assert content["status"] == 0 and content["seq"] == 3
    other.sid = content["content"]["session_id"]
    assert other.ok("isLoggedIn") == {"status": True}
    # A url-encoded form is read as well; a GET is refused as TT-RSS refuses it.
    form = httpx.post(web.url("/api/"), data={"op": "getApiLevel", "sid": other.sid})
    assert form.json() == {"seq": 0, "status": 0, "content": {"level": 23}}
    assert httpx.get(web.url("/api/")).json() == {"seq": -1, "status": 1, "content": {"error": "INCORRECT_USAGE"}}

    # Forged and tampered sessions open nothing.
    for sid in ("forged", client.sid[:-1] + ("0" if client.sid[-1] != "0" else "1"), "x." + client.sid.split(".")[1]):
        with Client(web) as forged:
            forged.sid = sid
            assert forged.error("getVersion") == "NOT_LOGGED_IN"
            assert forged.ok("isLoggedIn") == {"status": False}

    # Logout ends that session only.
    assert client.ok("logout") == {"status": "OK"}
    assert client.error("getApiLevel") == "NOT_LOGGED_IN"
    assert other.ok("getApiLevel") == {"level": 23}

    # Revoking the app password ends its sessions, and it opens no new one.
    client.login("ann", app)
    credential = next(c for c in lenta.credentials(ann) if c.name == "newsboat")
    lenta.revoke_credential(ann, credential.id)
    assert client.error("getApiLevel") == "NOT_LOGGED_IN"
    assert client.error("login", user="ann", password=app) == "LOGIN_ERROR"
    # A new account password ends the sessions the old one opened.
    lenta.change_password("ann", "another horse battery")
    assert other.error("getApiLevel") == "NOT_LOGGED_IN"
    client.close()
    other.close()


def test_failed_logins_are_throttled(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, _ = site
    user_with_api(lenta, "ann")
    client = Client(web)
    for _ in range(6):
        assert client.error("login", user="ann", password="wrong password") == "LOGIN_ERROR"
    assert client.error("login", user="ann", password=PASSWORD) == "LOGIN_ERROR"  # locked for now, even with the right one
    client.close()


# -- a client's sync -----------------------------------------------------------------------------


def test_a_client_syncs_reads_and_writes_through_every_op(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    ann, app = user_with_api(lenta, "ann")
    reader = lenta.reader(ann)
    news = reader.add_folder("News")
    world = reader.add_folder("World", news.id)
    empty = reader.add_folder("Empty")
    alpha = follow(lenta, ann, feeds.url("/alpha.xml"), (news.id,))
    beta = follow(lenta, ann, feeds.url("/beta.xml"), (world.id,))
    cast = follow(lenta, ann, feeds.url("/cast.xml"))
    client = Client(web)
    assert client.login("ann", app)["config"]["num_feeds"] == 3

    # newsboat: getCategories, then getFeeds with cat_id -3, cat_id a JSON number.
    categories = client.ok("getCategories")
    assert [(c["id"], c["title"], c["unread"]) for c in categories] == [
        (news.id, "News", 5),
        (world.id, "World", 3),
        (-1, "Special", 0),
        (0, "Uncategorized", 1),
    ]
    nested = client.ok("getCategories", enable_nested="1", include_empty="1")
    assert [(c["id"], c["unread"]) for c in nested] == [(news.id, 8), (empty.id, 0), (-2, 0), (-1, 0), (0, 1)]
    assert [c["id"] for c in client.ok("getCategories", unread_only="1")] == [news.id, world.id, 0]
    real = client.ok("getFeeds", cat_id="-3")
    assert [(f["id"], f["title"], f["cat_id"], f["unread"]) for f in real] == [
        (alpha, "Alpha", news.id, 5),
        (beta, "Beta", world.id, 3),
        (cast, "Cast", 0, 1),
    ]
    assert all(isinstance(f["cat_id"], int) and f["feed_url"].startswith("http://") for f in real)
    assert real[0]["last_updated"] > 0 and real[0]["has_icon"] is False
    assert [f["id"] for f in client.ok("getFeeds", cat_id="0")] == [cast]
    assert [f["id"] for f in client.ok("getFeeds", cat_id=str(news.id))] == [alpha]
    assert client.ok("getFeeds", cat_id=str(news.id), include_nested="1")[0] == {
        "id": world.id,
        "title": "World",
        "unread": 3,
        "is_cat": True,
        "order_id": 0,
    }
    special = client.ok("getFeeds", cat_id="-1")
    assert [(f["id"], f["unread"], f["cat_id"]) for f in special] == [(-1, 0, -1), (-3, 9, -1), (-4, 9, -1)]
    assert [f["id"] for f in client.ok("getFeeds", cat_id="-4")] == [-1, -3, -4, alpha, beta, cast]
    assert [f["id"] for f in client.ok("getFeeds", cat_id="-3", limit="1", offset="1")] == [beta]
    assert [f["id"] for f in client.ok("getFeeds", cat_id="-4", unread_only="1")] == [-3, -4, alpha, beta, cast]

    # getHeadlines as newsboat asks: every article of a feed, unread a JSON boolean.
    headlines = client.ok("getHeadlines", feed_id=str(alpha), show_content="1", include_attachments="1")
    assert [h["title"] for h in headlines] == [f"Alpha {n}" for n in range(5, 0, -1)]
    first = headlines[0]
    assert first["unread"] is True and first["marked"] is False and first["feed_id"] == alpha
    assert first["content"] == "<p>Body 5</p>" and first["attachments"] == [] and isinstance(first["updated"], int)
    assert first["link"] == "https://example.com/Alpha/5" and first["feed_title"] == "Alpha"
    without = client.ok("getHeadlines", feed_id=str(alpha), limit="2")
    assert len(without) == 2 and "content" not in without[0] and "attachments" not in without[0]
    episode = client.ok("getHeadlines", feed_id=str(cast), show_excerpt="1", include_attachments="1", show_content="1")[0]
    assert episode["excerpt"] == "Show notes" and episode["tags"] == ["audio"]
    assert episode["attachments"][0]["content_url"] == "https://example.com/cast/1.mp3"
    assert episode["attachments"][0]["content_type"] == "audio/mpeg" and episode["attachments"][0]["post_id"] == episode["id"]

    # updateArticle: read (field 2 mode 0), unread (mode 1), toggle (mode 2), star (field 0), several at once.
    ids = [h["id"] for h in headlines]
    assert client.ok("updateArticle", article_ids=str(ids[0]), field="2", mode="0") == {"status": "OK", "updated": 1}
    assert reader.item(ids[0]).read
    assert client.ok("getUnread", feed_id=str(alpha)) == {"unread": 4}
    assert client.ok("updateArticle", article_ids=f"{ids[0]},{ids[1]}", field="2", mode="2")["updated"] == 2
    assert not reader.item(ids[0]).read and reader.item(ids[1]).read
    client.ok("updateArticle", article_ids=str(ids[1]), field="2", mode="1")
    assert not reader.item(ids[1]).read
    client.ok("updateArticle", article_ids=f"{ids[2]}, {ids[3]}", field="0", mode="1")
    assert reader.item(ids[2]).starred and reader.item(ids[3]).starred
    client.ok("updateArticle", article_ids=str(ids[3]), field="0", mode="2")
    assert not reader.item(ids[3]).starred
    published = client.ok("updateArticle", article_ids=str(ids[4]), field="1", mode="1")
    assert published == {"status": "OK", "updated": 1}  # accepted, kept nowhere
    bad_calls = (
        {"article_ids": "", "field": "2"},
        {"article_ids": "1,x", "field": "2"},
        {"article_ids": str(ids[0]), "field": "9"},
    )
    for bad in bad_calls:
        assert client.error("updateArticle", **bad) == "INCORRECT_USAGE"
    assert client.error("updateArticle", article_ids=str(ids[0]), field="2", mode="5") == "INCORRECT_USAGE"
    client.ok("updateArticle", article_ids=str(ids[4]), field="2", mode="0")

    # The special feeds and view modes.
    starred = client.ok("getHeadlines", feed_id="-1")
    assert [h["id"] for h in starred] == [ids[2]] and starred[0]["marked"] is True
    assert client.ok("getUnread", feed_id="-1") == {"unread": 1}
    assert len(client.ok("getHeadlines", feed_id="-4")) == 9
    assert len(client.ok("getHeadlines", feed_id="-4", view_mode="unread")) == 8
    assert [h["id"] for h in client.ok("getHeadlines", feed_id="-4", view_mode="marked")] == [ids[2]]
    assert client.ok("getHeadlines", feed_id="-4", view_mode="published") == []
    assert len(client.ok("getHeadlines", feed_id="-3")) == 8  # fresh: unread, arrived within a day
    assert client.ok("getUnread", feed_id="-3") == {"unread": 8}
    assert client.ok("getHeadlines", feed_id="-2") == [] and client.ok("getHeadlines", feed_id="0") == []
    assert client.ok("getHeadlines", feed_id="sometag") == []
    assert client.error("getHeadlines") == "INCORRECT_USAGE"
    by_category = client.ok("getHeadlines", feed_id=str(news.id), is_cat="1")
    assert {h["feed_id"] for h in by_category} == {alpha}
    nested_rows = client.ok("getHeadlines", feed_id=str(news.id), is_cat="1", include_nested="1")
    assert {h["feed_id"] for h in nested_rows} == {alpha, beta}
    assert [h["feed_id"] for h in client.ok("getHeadlines", feed_id="0", is_cat="1")] == [cast]
    adaptive = client.ok("getHeadlines", feed_id=str(alpha), view_mode="adaptive")
    assert len(adaptive) == 4 and all(h["unread"] for h in adaptive)
    oldest = client.ok("getHeadlines", feed_id=str(alpha), order_by="date_reverse", limit="2")
    assert [h["title"] for h in oldest] == ["Alpha 1", "Alpha 2"]
    assert [h["title"] for h in client.ok("getHeadlines", feed_id=str(alpha), order_by="feed_dates", limit="1")] == ["Alpha 5"]
    newer = client.ok("getHeadlines", feed_id="-4", since_id=str(max(ids)))
    assert {h["feed_id"] for h in newer} <= {beta, cast} and len(newer) == 4
    header, rows = client.ok("getHeadlines", feed_id=str(alpha), include_header="1", limit="2")
    assert header == {"id": alpha, "first_id": rows[0]["id"], "is_cat": False} and len(rows) == 2
    first = rows[0]["id"]
    header, rows = client.ok("getHeadlines", feed_id=str(alpha), include_header="1", skip="2", check_first_id=str(first + 1000))
    assert header["first_id_changed"] is True and rows == []
    header, rows = client.ok("getHeadlines", feed_id=str(alpha), include_header="1", skip="2", check_first_id=str(first))
    assert header == {"id": alpha, "first_id": first, "is_cat": False} and len(rows) == 3
    found = client.ok("getHeadlines", feed_id="-4", search="Beta")
    assert found and {h["feed_id"] for h in found} == {beta}

    # getArticle: one or several, unknown ids left out.
    articles = client.ok("getArticle", article_id=f"{ids[2]},{ids[0]},999999")
    assert [a["id"] for a in articles] == sorted([ids[0], ids[2]])
    article = next(a for a in articles if a["id"] == ids[2])
    assert article["marked"] is True and article["unread"] is True and article["content"] == "<p>Body 3</p>"
    assert article["feed_id"] == alpha and article["feed_title"] == "Alpha" and article["attachments"] == []
    assert client.error("getArticle", article_id="") == "INCORRECT_USAGE"

    # getUnread, getCounters.
    assert client.ok("getUnread") == {"unread": 8}
    assert client.ok("getUnread", feed_id=str(news.id), is_cat="1") == {"unread": 4}
    assert client.ok("getUnread", feed_id="0", is_cat="1") == {"unread": 1}
    counters = {(c["id"], c.get("kind")): c for c in client.ok("getCounters")}
    assert counters[("global-unread", None)]["counter"] == 8 and counters[("subscribed-feeds", None)]["counter"] == 3
    assert counters[(alpha, None)]["counter"] == 4 and counters[(alpha, None)]["markedcounter"] == 1
    assert counters[(-1, None)]["counter"] == 1 and counters[(-1, None)]["auxcounter"] == 1
    assert counters[(-4, None)]["counter"] == 8
    assert counters[(news.id, "cat")]["counter"] == 7 and counters[(0, "cat")]["counter"] == 1

    # getFeedTree: special feeds, folders inside folders, the uncategorized.
    tree = client.ok("getFeedTree")["categories"]
    assert tree["identifier"] == "id" and tree["label"] == "name"
    top = tree["items"]
    assert [node["id"] for node in top] == ["CAT:-1", f"CAT:{news.id}", "CAT:0"]
    assert [f["bare_id"] for f in top[0]["items"]] == [-4, -3, -1]
    assert [node["id"] for node in top[1]["items"]] == [f"CAT:{world.id}", f"FEED:{alpha}"]
    assert top[1]["items"][0]["items"][0]["bare_id"] == beta and top[2]["items"][0]["name"] == "Cast"
    assert f"CAT:{empty.id}" in [node["id"] for node in client.ok("getFeedTree", include_empty="1")["categories"]["items"]]

    # catchupFeed: a feed, a category, the starred, everything.
    assert client.ok("catchupFeed", feed_id=str(cast)) == {"status": "OK"}
    assert client.ok("getUnread", feed_id=str(cast)) == {"unread": 0}
    client.ok("catchupFeed", feed_id="-1")
    assert reader.item(ids[2]).read and client.ok("getUnread", feed_id=str(alpha)) == {"unread": 3}
    client.ok("catchupFeed", feed_id=str(world.id), is_cat="1")
    assert client.ok("getUnread", feed_id=str(beta)) == {"unread": 0}
    client.ok("catchupFeed", feed_id=str(alpha), mode="1week")  # nothing arrived a week ago
    assert client.ok("getUnread", feed_id=str(alpha)) == {"unread": 3}
    client.ok("catchupFeed", feed_id="-4", is_cat="1")  # a special feed named as a category: nothing, as TT-RSS
    assert client.ok("getUnread") == {"unread": 3}
    client.ok("catchupFeed", feed_id="-4")
    assert client.ok("getUnread") == {"unread": 0}

    # subscribeToFeed and unsubscribeFeed.
    assert client.ok("unsubscribeFeed", feed_id=str(beta)) == {"status": "OK"}
    assert client.error("unsubscribeFeed", feed_id=str(beta)) == "E_OPERATION_FAILED"
    made = client.ok("subscribeToFeed", feed_url=feeds.url("/beta.xml"), category_id=str(news.id))["status"]
    assert made["code"] == 1 and made["feed_id"] != beta
    assert reader.subscription(made["feed_id"]).folder_ids == (news.id,)
    again = client.ok("subscribeToFeed", feed_url=feeds.url("/beta.xml"))["status"]
    assert again == {"code": 0, "feed_id": made["feed_id"]}
    assert client.ok("subscribeToFeed", feed_url="not a url")["status"]["code"] == 2
    assert client.ok("subscribeToFeed", feed_url=feeds.url("/page.html"))["status"]["code"] == 3
    assert client.ok("subscribeToFeed", feed_url=feeds.url("/missing.xml"))["status"]["code"] == 5
    assert client.error("subscribeToFeed") == "INCORRECT_USAGE"
    assert client.ok("getLabels") == [] and client.ok("getConfig")["num_feeds"] == 3
    assert client.ok("getPref", pref_name="ENABLE_API_ACCESS") == {"value": True}
    assert client.ok("updateFeed", feed_id=str(alpha)) == {"status": "OK"}
    assert client.error("getFeedIcon", id=str(alpha)) == "E_NOT_FOUND"
    client.close()


def test_paging_through_1000_items_without_loss_or_repetition(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    ann, app = user_with_api(lenta, "ann")
    big = follow(lenta, ann, feeds.url("/big.xml"))
    follow(lenta, ann, feeds.url("/alpha.xml"))
    client = Client(web)
    client.login("ann", app)
    assert client.ok("getUnread", feed_id=str(big)) == {"unread": 1000}
    # newsboat's call: no limit gives TT-RSS's 200.
    assert len(client.ok("getHeadlines", feed_id=str(big))) == 200
    assert len(client.ok("getHeadlines", feed_id=str(big), limit="500")) == 200
    seen: list[int] = []
    for feed_id, limit, total in ((str(big), "200", 1000), ("-4", "150", 1005), ("-3", "77", 1005)):
        seen = []
        for _ in range(30):
            rows = client.ok("getHeadlines", feed_id=feed_id, limit=limit, skip=str(len(seen)))
            seen += [row["id"] for row in rows]
            if not rows:
                break
        assert len(seen) == total and len(set(seen)) == total, (feed_id, len(seen), len(set(seen)))
    # since_id: what came after an id, and nothing after the highest.
    assert client.ok("getHeadlines", feed_id="-4", since_id=str(max(seen))) == []
    assert len(client.ok("getHeadlines", feed_id="-4", since_id=str(sorted(seen)[-3]))) == 2
    # Numbers past any id or offset are no error.
    huge = "9" * 25
    for args in ({"since_id": huge}, {"skip": huge}, {"limit": huge, "skip": huge}):
        assert client.ok("getHeadlines", feed_id="-4", **args) == []
    assert client.ok("getHeadlines", feed_id=huge) == [] and client.ok("getUnread", feed_id=huge) == {"unread": 0}
    assert client.ok("updateArticle", article_ids=huge[:18], field="2", mode="0")["updated"] == 0
    assert client.ok("getArticle", article_id=f"{huge[:18]},-5") == []
    assert client.error("unsubscribeFeed", feed_id=huge) == "E_OPERATION_FAILED"
    assert client.ok("catchupFeed", feed_id=huge[:12]) == {"status": "OK"}
    # Oldest first, walked to the end, also once each.
    seen = []
    for _ in range(30):
        rows = client.ok("getHeadlines", feed_id=str(big), order_by="date_reverse", skip=str(len(seen)))
        if not rows:
            break
        seen += [row["id"] for row in rows]
    assert len(seen) == len(set(seen)) == 1000
    client.close()


def test_another_users_ids_show_and_change_nothing(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    ann, app = user_with_api(lenta, "ann")
    reader = lenta.reader(ann)
    folder = reader.add_folder("Mine")
    alpha = follow(lenta, ann, feeds.url("/alpha.xml"), (folder.id,))
    item = reader.items("all").items[0].item.id
    reader.star(item)
    user_with_api(lenta, "bob")
    bob = Client(web)
    bob.login("bob", PASSWORD)
    assert bob.ok("getFeeds", cat_id="-4") == [
        {"id": -1, "title": "Starred articles", "unread": 0, "cat_id": -1},
        {"id": -3, "title": "Fresh articles", "unread": 0, "cat_id": -1},
        {"id": -4, "title": "All articles", "unread": 0, "cat_id": -1},
    ]
    assert bob.ok("getFeeds", cat_id=str(folder.id)) == []
    assert bob.ok("getCategories") == [{"id": -1, "title": "Special", "unread": 0}]
    assert bob.ok("getHeadlines", feed_id=str(alpha)) == []
    assert bob.ok("getHeadlines", feed_id=str(folder.id), is_cat="1") == []
    assert bob.ok("getHeadlines", feed_id="-1") == [] and bob.ok("getHeadlines", feed_id="-4") == []
    assert bob.ok("getArticle", article_id=str(item)) == []
    assert bob.ok("getUnread", feed_id=str(alpha)) == {"unread": 0}
    assert bob.ok("getUnread", feed_id=str(folder.id), is_cat="1") == {"unread": 0}
    assert bob.ok("updateArticle", article_ids=str(item), field="2", mode="0") == {"status": "OK", "updated": 0}
    assert bob.ok("updateArticle", article_ids=str(item), field="0", mode="0") == {"status": "OK", "updated": 0}
    for args in ({"feed_id": str(alpha)}, {"feed_id": str(folder.id), "is_cat": "1"}, {"feed_id": "-4"}, {"feed_id": "-1"}):
        assert bob.ok("catchupFeed", **args) == {"status": "OK"}
    assert bob.error("unsubscribeFeed", feed_id=str(alpha)) == "E_OPERATION_FAILED"
    assert bob.error("getFeedIcon", id=str(alpha)) == "E_NOT_FOUND"
    assert bob.ok("updateFeed", feed_id=str(alpha)) == {"status": "OK"}
    assert bob.ok("subscribeToFeed", feed_url=feeds.url("/beta.xml"), category_id=str(folder.id)) == {"status": {"code": 7}}
    tree = bob.ok("getFeedTree", include_empty="1")["categories"]["items"]
    assert [node["id"] for node in tree] == ["CAT:-1", "CAT:0"] and tree[1]["items"] == []
    counters = bob.ok("getCounters")
    assert {c["id"] for c in counters if "kind" not in c} == {"global-unread", "subscribed-feeds", 0, -1, -2, -3, -4}
    assert {c["id"] for c in counters if "kind" in c} == {-2, 0}
    # Ann's things as they were.
    assert reader.subscription(alpha).unread == 5 and reader.item(item).starred and not reader.item(item).read
    assert [f.id for f in reader.followed()] == [alpha] and reader.folders() == [folder]
    # Bob's own subscription to the same feed has his own id and states.
    ann_client = Client(web)
    ann_client.login("ann", app)
    assert [h["marked"] for h in ann_client.ok("getHeadlines", feed_id="-1")] == [True]
    bob.ok("subscribeToFeed", feed_url=feeds.url("/alpha.xml"))
    mine = bob.ok("getFeeds", cat_id="-3")
    assert len(mine) == 1 and mine[0]["id"] != alpha and mine[0]["unread"] == 5
    assert bob.ok("getHeadlines", feed_id="-1") == []
    bob.close()
    ann_client.close()
