"""The Miniflux API v1 (issue 12) driven by the official ``miniflux`` Python
client from PyPI against lenta over real HTTP: every call it offers that
lenta serves, with its answers checked; auth by API key, app password and
account password; bad and revoked credentials; one user's ids are
another's 404s."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator

import httpx
import miniflux
import pytest
from httpserver import LocalServer
from httpserver import Reply
from test_reader import RSS
from test_reader import feed_xml
from test_web import PASSWORD
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.web import create_app


@pytest.fixture
def site(lenta: Lenta, settings: Settings) -> Iterator[tuple[AppServer, LocalServer]]:
    routes = {
        "/alpha.xml": Reply(body=feed_xml("Alpha", range(1, 6)), headers=RSS),
        "/beta.xml": Reply(body=feed_xml("Beta", range(1, 4)), headers=RSS),
        "/page.html": Reply(
            body=b'<html><head><link rel="alternate" type="application/atom+xml" title="Beta feed" href="/beta.xml">'
            b"</head></html>",
            headers={"Content-Type": "text/html"},
        ),
    }
    with LocalServer(routes) as feeds, AppServer(create_app(settings, lenta)) as web:
        yield web, feeds


def api_client(web: AppServer, lenta: Lenta, name: str) -> miniflux.Client:
    user = lenta.add_user(name, PASSWORD)
    key = lenta.add_credential(user, "tests", "api_key")
    return miniflux.Client(web.url(""), api_key=key.secret)


def test_the_official_client_reads_and_writes_through_every_call(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    client = api_client(web, lenta, "ann")
    me = client.me()
    assert me["username"] == "ann" and me["is_admin"] is False
    assert client.get_version()["version"]

    # Categories: "All" always; a new one is a folder.
    assert [c["title"] for c in client.get_categories()] == ["All"]
    news = client.create_category("News")
    assert news["title"] == "News"
    with pytest.raises(miniflux.BadRequest):
        client.create_category("News")
    renamed = client.update_category(news["id"], "World")
    assert renamed == {"id": news["id"], "title": "World", "user_id": me["id"], "hide_globally": False}

    # Feeds: create (fetched at once), list with their category, get, update, counters.
    alpha_id = client.create_feed(feeds.url("/alpha.xml"), category_id=news["id"])
    beta_id = client.create_feed(feeds.url("/beta.xml"))
    with pytest.raises(miniflux.BadRequest):
        client.create_feed(feeds.url("/alpha.xml"))
    listed = {f["id"]: f for f in client.get_feeds()}
    assert set(listed) == {alpha_id, beta_id}
    assert listed[alpha_id]["category"]["title"] == "World" and listed[beta_id]["category"]["title"] == "All"
    assert listed[alpha_id]["title"] == "Alpha" and listed[alpha_id]["feed_url"] == feeds.url("/alpha.xml")
    assert client.get_feed(alpha_id)["id"] == alpha_id
    assert [f["id"] for f in client.get_category_feeds(news["id"])] == [alpha_id]
    updated = client.update_feed(beta_id, title="My Beta", category_id=news["id"])
    assert updated["title"] == "My Beta" and updated["category"]["id"] == news["id"]
    assert client.get_feed_counters()["unreads"] == {str(alpha_id): 5, str(beta_id): 3}

    # Entries: the envelope, filters, order, paging, status and star changes.
    everything = client.get_entries(limit=100)
    assert everything["total"] == 8 and len(everything["entries"]) == 8
    entry = everything["entries"][0]
    assert {"id", "feed_id", "status", "title", "url", "content", "published_at", "starred", "feed", "enclosures"} <= set(entry)
    assert entry["feed"]["id"] == entry["feed_id"] and entry["published_at"].endswith("Z")
    newest_first = client.get_entries(order="published_at", direction="desc", limit=3)
    # Equal dates (Alpha 3 and Beta 3) go by id, newest first: Beta's were stored after Alpha's.
    assert [e["title"] for e in newest_first["entries"]] == ["Alpha 5", "Alpha 4", "Beta 3"] and newest_first["total"] == 8
    second_page = client.get_entries(order="published_at", direction="desc", limit=3, offset=3)
    assert [e["title"] for e in second_page["entries"]] == ["Alpha 3", "Beta 2", "Alpha 2"]
    alpha_entries = client.get_feed_entries(alpha_id, status="unread")
    assert alpha_entries["total"] == 5
    client.update_entries([e["id"] for e in alpha_entries["entries"][:2]], status="read")
    assert client.get_feed_entries(alpha_id, status="unread")["total"] == 3
    assert client.get_entries(status="read")["total"] == 2
    one = alpha_entries["entries"][0]["id"]
    assert client.get_entry(one)["status"] == "read"
    assert client.get_feed_entry(alpha_id, one)["id"] == one
    assert client.get_category_entry(news["id"], one)["id"] == one
    client.toggle_bookmark(one)
    assert client.get_entry(one)["starred"] is True
    assert [e["id"] for e in client.get_entries(starred=True)["entries"]] == [one]
    assert client.get_category_entries(news["id"])["total"] == 8
    after = client.get_entries(after_entry_id=one, order="id", direction="asc")
    assert all(e["id"] > one for e in after["entries"])

    # Marking all read: a feed, a category, everything.
    client.mark_feed_entries_as_read(alpha_id)
    assert client.get_feed_counters()["unreads"] == {str(beta_id): 3}
    client.mark_category_entries_as_read(news["id"])
    client.mark_user_entries_as_read(me["id"])
    assert client.get_entries(status="unread")["total"] == 0

    # Discovery, OPML, refresh, delete.
    assert client.discover(feeds.url("/page.html")) == [{"title": "Beta feed", "url": feeds.url("/beta.xml"), "type": "atom"}]
    opml = client.export_feeds()
    assert feeds.url("/alpha.xml") in opml and "World" in opml
    client.refresh_feed(alpha_id)
    client.refresh_all_feeds()
    client.delete_feed(beta_id)
    assert [f["id"] for f in client.get_feeds()] == [alpha_id]
    client.import_feeds(opml)
    assert len(client.get_feeds()) == 2
    client.delete_category(news["id"])
    assert [c["title"] for c in client.get_categories()] == ["All"]
    assert len(client.get_feeds()) == 2  # lenta keeps a deleted category's feeds (a documented deviation)


def test_auth_by_key_app_password_and_password(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, _ = site
    ann = lenta.add_user("ann", PASSWORD)
    app = lenta.add_credential(ann, "phone")
    key = lenta.add_credential(ann, "script", "api_key")
    assert miniflux.Client(web.url(""), username="ann", password=app.secret).me()["username"] == "ann"
    assert miniflux.Client(web.url(""), username="ann", password=PASSWORD).me()["username"] == "ann"
    for bad in (
        miniflux.Client(web.url(""), api_key="not-a-key"),
        miniflux.Client(web.url(""), api_key=app.secret),  # an app password is no API key
        miniflux.Client(web.url(""), username="ann", password="wrong password"),
        miniflux.Client(web.url(""), username="bob", password=app.secret),
    ):
        with pytest.raises(miniflux.AccessUnauthorized):
            bad.me()
    lenta.revoke_credential(ann, key.id)
    with pytest.raises(miniflux.AccessUnauthorized):
        miniflux.Client(web.url(""), api_key=key.secret).me()
    raw = httpx.get(web.url("/v1/me"))
    assert raw.status_code == 401 and raw.headers["content-type"] == "application/json"
    assert raw.json() == {"error_message": "access unauthorized"} and raw.headers["www-authenticate"].startswith("Basic")
    assert [c.name for c in lenta.credentials(ann)] == ["phone"]


def test_one_users_ids_are_anothers_404s(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    ann, bob = api_client(web, lenta, "ann"), api_client(web, lenta, "bob")
    feed_id = ann.create_feed(feeds.url("/alpha.xml"))
    category = ann.create_category("Mine")
    entry_id = ann.get_entries()["entries"][0]["id"]
    calls: list[Callable[[], object]] = [
        lambda: bob.get_feed(feed_id),
        lambda: bob.update_feed(feed_id, title="x"),
        lambda: bob.delete_feed(feed_id),
        lambda: bob.refresh_feed(feed_id),
        lambda: bob.mark_feed_entries_as_read(feed_id),
        lambda: bob.get_entry(entry_id),
        lambda: bob.toggle_bookmark(entry_id),
        lambda: bob.get_category_feeds(category["id"]),
        lambda: bob.update_category(category["id"], "x"),
        lambda: bob.delete_category(category["id"]),
        lambda: bob.mark_category_entries_as_read(category["id"]),
    ]
    for call in calls:
        with pytest.raises(miniflux.ResourceNotFound):
            call()
    with pytest.raises(miniflux.BadRequest):  # Miniflux: a foreign feed in an entry list is a bad request
        bob.get_feed_entries(feed_id)
    bob.update_entries([entry_id], status="read")  # silently skipped, as Miniflux does
    assert ann.get_entry(entry_id)["status"] == "unread"
    assert bob.get_entries()["total"] == 0 and bob.get_feeds() == []


def test_app_passwords_are_made_and_revoked_on_the_users_page(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    import re

    from test_reader_web import signed_in
    from test_reader_web import token_of

    web, _ = site
    lenta.add_user("ann", PASSWORD)
    with signed_in(web, "ann") as (http, _landing):
        token = token_of(http, "/user/app-passwords")
        made = http.post("/user/app-passwords", data={"csrf_token": token, "name": "phone", "kind": "app_password"})
        assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
        secret = re.search(r'<code class="new-secret">([^<]+)</code>', made.text)
        assert secret is not None
        assert miniflux.Client(web.url(""), username="ann", password=secret.group(1)).me()["username"] == "ann"
        listed = http.get("/user/app-passwords").text
        assert "phone" in listed and secret.group(1) not in listed  # shown once
        credential = re.search(r'action="/user/app-passwords/(\d+)/revoke"', listed)
        assert credential is not None
        assert http.post(f"/user/app-passwords/{credential.group(1)}/revoke", data={"csrf_token": token}).status_code == 303
        with pytest.raises(miniflux.AccessUnauthorized):
            miniflux.Client(web.url(""), username="ann", password=secret.group(1)).me()
        assert http.post("/user/app-passwords", data={"csrf_token": token, "name": "  "}).status_code == 400
