"""The Google Reader API (issue 12) over real HTTP: ClientLogin and tokens
(app password, account password, revoked, forged), every endpoint listed,
the three item id forms, continuation through 1,000 items without loss or
repetition, the Atom view newsboat's feedhq backend reads; another user's
ids change nothing."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest
from httpserver import LocalServer
from httpserver import Reply
from lxml import etree
from test_reader import NEWEST
from test_reader import RSS
from test_reader import feed_xml
from test_web import PASSWORD
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.web import create_app

API = "/reader/api/0"
READ = "user/-/state/com.google/read"
STARRED = "user/-/state/com.google/starred"
READING_LIST = "user/-/state/com.google/reading-list"


def big_feed(count: int) -> bytes:
    items = "".join(
        f"<item><title>Big {n}</title><guid>big-{n}</guid><link>https://example.com/big/{n}</link>"
        f"<pubDate>{format_datetime(NEWEST - timedelta(minutes=n), usegmt=True)}</pubDate></item>"
        for n in range(count)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()


@pytest.fixture
def site(lenta: Lenta, settings: Settings) -> Iterator[tuple[AppServer, LocalServer]]:
    routes = {
        "/alpha.xml": Reply(body=feed_xml("Alpha", range(1, 6)), headers=RSS),
        "/beta.xml": Reply(body=feed_xml("Beta", range(1, 4)), headers=RSS),
        "/big.xml": Reply(body=big_feed(1000), headers=RSS),
    }
    with LocalServer(routes) as feeds, AppServer(create_app(settings, lenta)) as web:
        yield web, feeds


def login(web: AppServer, name: str, password: str) -> httpx.Client:
    answer = httpx.post(web.url("/accounts/ClientLogin"), data={"Email": name, "Passwd": password})
    assert answer.status_code == 200, answer.text
    token = re.search(r"^Auth=(.+)$", answer.text, re.M)
    assert token is not None
    return httpx.Client(base_url=web.url(""), headers={"Authorization": f"GoogleLogin auth={token.group(1)}"})


def test_a_client_syncs_reads_and_writes(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    ann = lenta.add_user("ann", PASSWORD)
    app = lenta.add_credential(ann, "phone")
    with login(web, "ann", app.secret) as http:
        assert http.get(f"{API}/user-info").json()["userName"] == "ann"
        t = http.get(f"{API}/token").text
        assert len(t) == 57
        added = http.post(f"{API}/subscription/quickadd", data={"quickadd": feeds.url("/alpha.xml"), "T": t}).json()
        assert added["numResults"] == 1 and added["streamName"] == "Alpha"
        alpha = added["streamId"]
        edited = http.post(
            f"{API}/subscription/edit",
            data={"ac": "subscribe", "s": f"feed/{feeds.url('/beta.xml')}", "t": "My Beta", "a": "user/-/label/News"},
        )
        assert edited.text == "OK"
        subscriptions = {
            s["title"]: s for s in http.get(f"{API}/subscription/list", params={"output": "json"}).json()["subscriptions"]
        }
        assert set(subscriptions) == {"Alpha", "My Beta"}
        assert subscriptions["My Beta"]["categories"] == [{"id": "user/-/label/News", "label": "News"}]
        tags = [t["id"] for t in http.get(f"{API}/tag/list", params={"output": "json"}).json()["tags"]]
        assert STARRED in tags and "user/-/label/News" in tags
        counts = {c["id"]: c["count"] for c in http.get(f"{API}/unread-count", params={"output": "json"}).json()["unreadcounts"]}
        assert counts[alpha] == 5 and counts["user/-/label/News"] == 3 and counts[READING_LIST] == 8

        refs = http.get(f"{API}/stream/items/ids", params={"s": READING_LIST, "n": 100, "xt": READ}).json()["itemRefs"]
        assert len(refs) == 8 and all(ref["id"].isdigit() for ref in refs)
        first = int(refs[0]["id"])
        # The three id forms name the same item.
        for form in (f"tag:google.com,2005:reader/item/{first:016x}", f"{first:016x}", str(first)):
            items = http.post(f"{API}/stream/items/contents", data={"i": form}).json()["items"]
            assert [i["id"] for i in items] == [f"tag:google.com,2005:reader/item/{first:016x}"], form
        assert http.post(f"{API}/edit-tag", data={"i": str(first), "a": READ, "T": t}).text == "OK"
        assert http.post(f"{API}/edit-tag", data={"i": f"{first:016x}", "a": STARRED}).text == "OK"
        starred = http.get(f"{API}/stream/contents/{STARRED}").json()["items"]
        assert len(starred) == 1 and READ in starred[0]["categories"] and STARRED in starred[0]["categories"]
        unread = http.get(f"{API}/stream/items/ids", params={"s": READING_LIST, "xt": READ, "n": 100}).json()["itemRefs"]
        assert len(unread) == 7 and str(first) not in {r["id"] for r in unread}
        http.post(f"{API}/edit-tag", data={"i": str(first), "r": READ})
        assert len(http.get(f"{API}/stream/items/ids", params={"s": READING_LIST, "xt": READ, "n": 100}).json()["itemRefs"]) == 8
        news = http.get(f"{API}/stream/contents/user/-/label/News", params={"n": 10}).json()["items"]
        assert {i["origin"]["title"] for i in news} == {"My Beta"}

        assert http.post(f"{API}/mark-all-as-read", data={"s": alpha, "ts": "9999999999000000"}).text == "OK"
        counts = {c["id"]: c["count"] for c in http.get(f"{API}/unread-count", params={"output": "json"}).json()["unreadcounts"]}
        assert counts[alpha] == 0 and counts[READING_LIST] == 3
        assert http.post(f"{API}/rename-tag", data={"s": "user/-/label/News", "dest": "user/-/label/World"}).text == "OK"
        assert "user/-/label/World" in [t["id"] for t in http.get(f"{API}/tag/list").json()["tags"]]
        opml = http.get(f"{API}/subscription/export").text
        assert "World" in opml and feeds.url("/alpha.xml") in opml
        assert http.post(f"{API}/disable-tag", data={"s": "user/-/label/World"}).text == "OK"
        assert http.post(f"{API}/subscription/edit", data={"ac": "unsubscribe", "s": alpha}).text == "OK"
        assert [s["title"] for s in http.get(f"{API}/subscription/list").json()["subscriptions"]] == ["My Beta"]
        assert http.post(f"{API}/subscription/import", content=opml.encode()).text == "OK"
        assert len(http.get(f"{API}/subscription/list").json()["subscriptions"]) == 2

        # The Atom view: read labels newsboat reads.
        one = http.get(f"{API}/stream/items/ids", params={"s": READING_LIST, "n": 1}).json()["itemRefs"][0]["id"]
        http.post(f"{API}/edit-tag", data={"i": one, "a": READ})
        atom = http.get(f"/reader/atom/{READING_LIST}", params={"n": 20})
        assert atom.status_code == 200 and "etag" not in atom.headers and "last-modified" not in atom.headers
        tree = etree.fromstring(atom.content)
        found = tree.xpath("//a:entry/a:category/@label", namespaces={"a": "http://www.w3.org/2005/Atom"})
        labels = [str(label) for label in found] if isinstance(found, list) else []
        assert "read" in labels and "fresh" in labels


def test_continuation_walks_1000_items_once(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    ann = lenta.add_user("ann", PASSWORD)
    asyncio.run(lenta.reader(ann).follow(feeds.url("/big.xml")))
    with login(web, "ann", PASSWORD) as http:
        for endpoint, key in ((f"{API}/stream/items/ids", "itemRefs"), (f"{API}/stream/contents/{READING_LIST}", "items")):
            seen: list[str] = []
            continuation = ""
            for _ in range(20):
                params: dict[str, str | int] = {"s": READING_LIST, "n": 150}
                if continuation:
                    params["c"] = continuation
                answer = http.get(endpoint, params=params).json()
                seen += [entry["id"] for entry in answer[key]]
                continuation = answer.get("continuation", "")
                if not continuation:
                    break
            assert len(seen) == 1000 and len(set(seen)) == 1000, endpoint
        oldest = http.get(f"{API}/stream/contents/{READING_LIST}", params={"n": 2, "r": "o"}).json()["items"]
        assert [i["title"] for i in oldest] == ["Big 999", "Big 998"]


def test_bad_tokens_revoked_app_passwords_and_other_users(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    ann, bob = lenta.add_user("ann", PASSWORD), lenta.add_user("bob", PASSWORD)
    app = lenta.add_credential(ann, "phone")
    asyncio.run(lenta.reader(ann).follow(feeds.url("/alpha.xml")))
    assert httpx.post(web.url("/accounts/ClientLogin"), data={"Email": "ann", "Passwd": "wrong password"}).status_code == 401
    for header in ("GoogleLogin auth=forged/abc.def", "GoogleLogin auth=", "Bearer x"):
        answer = httpx.get(web.url(f"{API}/user-info"), headers={"Authorization": header})
        assert answer.status_code == 401 and answer.headers.get("google-bad-token") == "true"
    with login(web, "ann", app.secret) as http:
        item = http.get(f"{API}/stream/items/ids", params={"s": READING_LIST}).json()["itemRefs"][0]["id"]
        with login(web, "bob", PASSWORD) as other:
            assert other.post(f"{API}/edit-tag", data={"i": item, "a": READ}).text == "OK"  # ignored, as the originals do
            assert other.post(f"{API}/stream/items/contents", data={"i": item}).json()["items"] == []
            assert other.get(f"{API}/stream/contents/feed/1").status_code == 404
            assert other.post(f"{API}/subscription/edit", data={"ac": "unsubscribe", "s": "feed/1"}).status_code == 404
        assert READ not in http.post(f"{API}/stream/items/contents", data={"i": item}).json()["items"][0]["categories"]
        lenta.revoke_credential(ann, app.id)
        assert http.get(f"{API}/user-info").status_code == 401  # the token ends with its app password
    del bob
