"""Saved views as feeds over real HTTP (uvicorn on 127.0.0.1): a reader saves
a folder, publishes it, and anyone with the address reads it as a page with
Drupal's pager and as RSS 2.0, Atom 1.0 and JSON Feed 1.1 (read back with
lenta's own parser); revoking or publishing again kills the old address;
another user's view ids answer 404; links pass the URL allowlist."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from httpserver import LocalServer
from httpserver import Reply
from pagetext import parse_page
from test_reader import RSS
from test_reader import feed_xml
from test_reader_web import signed_in
from test_reader_web import token_of
from test_web import PASSWORD
from test_web import client
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.links import safe_url
from lenta.parse.formats import parse_feed
from lenta.web import create_app

EVIL = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Evil</title><link>https://evil.example/</link>'
    b"<item><title>Evil 1</title><link>javascript:alert(1)</link><guid>evil-1</guid>"
    b"<pubDate>Sun, 01 Nov 2026 00:00:00 GMT</pubDate>"
    b"<description>&lt;p onclick=&quot;alert(2)&quot;&gt;Hi&lt;script&gt;alert(3)&lt;/script&gt;&lt;/p&gt;</description>"
    b'<enclosure url="javascript:alert(4)" type="audio/mpeg" length="10"/></item>'
    b"</channel></rss>"
)
FEEDS = (".rss", ".atom", ".json")
TYPES = {
    "": "text/html; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
}


@pytest.fixture
def site(lenta: Lenta, settings: Settings) -> Iterator[tuple[AppServer, LocalServer]]:
    lenta.add_user("ann", PASSWORD)
    lenta.add_user("bob", PASSWORD)
    routes = {
        "/alpha.xml": Reply(body=feed_xml("Alpha", range(1, 43)), headers=RSS),
        "/beta.xml": Reply(body=feed_xml("Beta", range(1, 4)), headers=RSS),
        "/evil.xml": Reply(body=EVIL, headers=RSS),
    }
    with LocalServer(routes) as feeds, AppServer(create_app(settings, lenta)) as web:
        yield web, feeds


def folder_with(http: httpx.Client, feeds: LocalServer, name: str, *paths: str) -> int:
    """A new folder of the signed-in reader, following the feeds at ``paths`` in it."""
    token = token_of(http, "/reader/subscriptions")
    assert http.post("/reader/folders", data={"csrf_token": token, "name": name}).status_code == 303
    found = re.search(rf'href="/reader/folders/(\d+)">{name}<', http.get("/reader").text)
    assert found is not None
    folder = found.group(1)
    for path in paths:
        followed = http.post("/reader/subscriptions", data={"csrf_token": token, "url": feeds.url(path), "folder_id": folder})
        assert followed.status_code == 303, followed.text
    return int(folder)


def save_and_publish(http: httpx.Client, folder: int) -> tuple[int, str]:
    """Save a folder as a view and publish it: (the view's id, its token)."""
    token = token_of(http, "/reader/views")
    saved = http.post("/reader/views", data={"csrf_token": token, "kind": "folder", "folder_id": str(folder)})
    assert saved.status_code == 303 and saved.headers["location"] == "/reader/views"
    view = int(re.findall(r'id="view-(\d+)"', http.get("/reader/views").text)[-1])
    assert http.post(f"/reader/views/{view}/publish", data={"csrf_token": token}).status_code == 303
    return view, published_token(http, view)


def published_token(http: httpx.Client, view: int) -> str:
    page = http.get("/reader/views").text
    block = page.split(f'id="view-{view}"', 1)[1].split('class="saved-view"', 1)[0]
    found = re.search(r'/views/([A-Za-z0-9_-]{43})"', block)
    assert found is not None, block
    return found.group(1)


def item_titles(page: str) -> list[str]:
    return [h.text_content().strip() for h in parse_page(page).cssselect(".feed-item-title")]


def test_a_published_folder_is_a_paged_page_and_three_feeds(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    with signed_in(web, "ann") as (http, _):
        folder = folder_with(http, feeds, "News", "/alpha.xml", "/beta.xml")
        view, token = save_and_publish(http, folder)
    reader = lenta.reader(lenta.get_user("ann"))
    expected = [entry.item for entry in reader.items("all", folder_id=folder, per_page=100).items]
    assert len(expected) == 45
    titles = [item.title for item in expected]
    with client(web) as anyone:  # no session: the address is all it takes
        first = anyone.get(f"/views/{token}")
        assert first.status_code == 200 and first.headers["content-type"] == TYPES[""]
        assert first.headers["x-robots-tag"].startswith("noindex") and first.headers["referrer-policy"] == "no-referrer"
        assert item_titles(first.text) == titles[:20]
        tree = parse_page(first.text)
        assert tree.cssselect(".pager-current")[0].text_content() == "1"
        assert tree.cssselect(".pager-next a")[0].get("href") == f"/views/{token}?page=1"
        assert tree.cssselect(".pager-last a")[0].get("href") == f"/views/{token}?page=2"
        assert item_titles(anyone.get(f"/views/{token}?page=1").text) == titles[20:40]
        last = anyone.get(f"/views/{token}?page=2").text
        assert item_titles(last) == titles[40:] and len(titles[40:]) == 5
        assert item_titles(anyone.get(f"/views/{token}?page=99").text) == titles[40:]  # past the end: the last page
        assert item_titles(anyone.get(f"/views/{token}?page=junk").text) == titles[:20]
        for suffix in FEEDS:
            response = anyone.get(f"/views/{token}{suffix}")
            assert response.status_code == 200 and response.headers["content-type"] == TYPES[suffix], suffix
            assert response.headers["referrer-policy"] == "no-referrer"
            parsed = parse_feed(response.content, url=str(response.url), content_type=response.headers["content-type"])
            assert parsed.format == {".rss": "rss2.0", ".atom": "atom1.0", ".json": "json1.1"}[suffix]
            assert parsed.title == "News"
            assert [entry.title for entry in parsed.items] == titles[:20], suffix
            assert [entry.link for entry in parsed.items] == [item.link for item in expected[:20]], suffix
            assert [entry.published for entry in parsed.items] == [item.date for item in expected[:20]], suffix
            assert parsed.items[0].content is not None and "Body" in parsed.items[0].content
            assert len({entry.guid for entry in parsed.items}) == 20
        assert parse_feed(anyone.get(f"/views/{token}.rss").content, url="https://x.example/").self_url is not None


def test_revoking_or_publishing_again_kills_the_old_address(site: tuple[AppServer, LocalServer]) -> None:
    web, feeds = site
    with signed_in(web, "ann") as (http, _), client(web) as anyone:
        view, first = save_and_publish(http, folder_with(http, feeds, "News", "/beta.xml"))
        assert all(anyone.get(f"/views/{first}{suffix}").status_code == 200 for suffix in ("", *FEEDS))
        csrf = token_of(http, "/reader/views")
        assert http.post(f"/reader/views/{view}/publish", data={"csrf_token": csrf}).status_code == 303
        second = published_token(http, view)
        assert second != first
        for suffix in ("", *FEEDS):
            assert anyone.get(f"/views/{first}{suffix}").status_code == 404, suffix
            assert anyone.get(f"/views/{second}{suffix}").status_code == 200, suffix
        assert http.post(f"/reader/views/{view}/revoke", data={"csrf_token": csrf}).status_code == 303
        assert "Not published." in http.get("/reader/views").text
        for suffix in ("", *FEEDS):
            assert anyone.get(f"/views/{second}{suffix}").status_code == 404, suffix
        # Deleted: published again first, then gone with its address.
        assert http.post(f"/reader/views/{view}/publish", data={"csrf_token": csrf}).status_code == 303
        third = published_token(http, view)
        assert http.post(f"/reader/views/{view}/delete", data={"csrf_token": csrf}).status_code == 303
        assert anyone.get(f"/views/{third}").status_code == 404
        assert 'id="view-' not in http.get("/reader/views").text
        for path in ("/views/short", "/views/" + "x" * 43, "/views/" + "x" * 43 + ".xml", "/views/%2e%2e"):
            assert anyone.get(path).status_code == 404, path


def test_another_user_cannot_see_or_change_a_view(site: tuple[AppServer, LocalServer]) -> None:
    web, feeds = site
    with signed_in(web, "ann") as (ann, _), signed_in(web, "bob") as (bob, _):
        folder = folder_with(ann, feeds, "Private", "/beta.xml")
        view, token = save_and_publish(ann, folder)
        bob_token = token_of(bob, "/reader/views")
        assert "Private" not in bob.get("/reader/views").text
        for action in ("edit", "publish", "revoke", "delete"):
            response = bob.post(f"/reader/views/{view}/{action}", data={"csrf_token": bob_token, "name": "Mine now"})
            assert response.status_code == 404, action
        stolen = bob.post("/reader/views", data={"csrf_token": bob_token, "kind": "folder", "folder_id": str(folder)})
        assert stolen.status_code == 404
        search = bob.post(
            "/reader/views", data={"csrf_token": bob_token, "kind": "search", "q": "beta", "folder_id": str(folder)}
        )
        assert search.status_code == 404
        # Ann's view is as it was.
        assert published_token(ann, view) == token
        assert "Private" in ann.get("/reader/views").text
        assert bob.get(f"/views/{token}").status_code == 200  # the address is public: that is what publishing is


def test_links_out_pass_the_allowlist(site: tuple[AppServer, LocalServer]) -> None:
    web, feeds = site
    with signed_in(web, "ann") as (http, _), client(web) as anyone:
        _, token = save_and_publish(http, folder_with(http, feeds, "Risky", "/evil.xml"))
        for suffix in ("", *FEEDS):
            body = anyone.get(f"/views/{token}{suffix}").text
            assert "Evil 1" in body, suffix
            assert "javascript:" not in body and "alert(" not in body, suffix
        parsed = parse_feed(anyone.get(f"/views/{token}.atom").content, url="https://x.example/")
        assert parsed.items[0].link is None or safe_url(parsed.items[0].link) == parsed.items[0].link
        assert parsed.items[0].enclosures == ()


def test_a_search_is_saved_from_the_form_and_published(site: tuple[AppServer, LocalServer]) -> None:
    web, feeds = site
    with signed_in(web, "ann") as (http, _), client(web) as anyone:
        folder_with(http, feeds, "News", "/alpha.xml", "/beta.xml")
        prefilled = http.get("/reader/views", params={"q": '"beta 2"'}).text
        assert 'value="&#34;beta 2&#34;"' in prefilled or 'value="&quot;beta 2&quot;"' in prefilled
        csrf = token_of(http, "/reader/views")
        empty = http.post("/reader/views", data={"csrf_token": csrf, "kind": "search", "q": "  "})
        assert empty.status_code == 303 and "Search for at least one word." in http.get("/reader/views").text
        saved = http.post("/reader/views", data={"csrf_token": csrf, "kind": "search", "q": "beta", "name": "Betas"})
        assert saved.status_code == 303
        page = http.get("/reader/views").text
        assert "Betas" in page and "Search for beta" in page
        view = int(re.findall(r'id="view-(\d+)"', page)[-1])
        assert http.post(f"/reader/views/{view}/publish", data={"csrf_token": csrf}).status_code == 303
        token = published_token(http, view)
        assert item_titles(anyone.get(f"/views/{token}").text) == ["Beta 3", "Beta 2", "Beta 1"]
        parsed = parse_feed(anyone.get(f"/views/{token}.json").content, url="https://x.example/")
        assert parsed.title == "Betas" and [entry.title for entry in parsed.items] == ["Beta 3", "Beta 2", "Beta 1"]
        renamed = http.post(f"/reader/views/{view}/edit", data={"csrf_token": csrf, "name": "Only betas"})
        assert renamed.status_code == 303 and "Only betas" in http.get("/reader/views").text


def test_views_need_a_signed_in_user_and_the_csrf_token(site: tuple[AppServer, LocalServer]) -> None:
    web, feeds = site
    with client(web) as anonymous:
        response = anonymous.get("/reader/views")
        assert response.status_code == 303 and response.headers["location"].startswith("/user/login")
        posted = anonymous.post("/reader/views", data={"kind": "search", "q": "x"})
        assert posted.status_code == 303 and posted.headers["location"].startswith("/user/login")
    with signed_in(web, "ann") as (http, _):
        folder = folder_with(http, feeds, "News", "/beta.xml")
        forged = http.post("/reader/views", data={"csrf_token": "forged", "kind": "folder", "folder_id": str(folder)})
        assert forged.status_code == 403 and 'id="view-' not in http.get("/reader/views").text
        view, token = save_and_publish(http, folder)
        for action in ("edit", "publish", "revoke", "delete"):
            assert http.post(f"/reader/views/{view}/{action}", data={"csrf_token": "forged"}).status_code == 403, action
        assert published_token(http, view) == token
        assert http.post("/reader/views/99999/publish", data={"csrf_token": token_of(http, "/reader/views")}).status_code == 404


def test_saved_views_speak_russian(site: tuple[AppServer, LocalServer]) -> None:
    web, feeds = site
    with signed_in(web, "ann", language="ru") as (http, _):
        _, token = save_and_publish(http, folder_with(http, feeds, "News", "/beta.xml"))
        page = http.get("/reader/views").text
        for russian in ("Сохранённые подборки", "Опубликовано по адресу", "Сохранить поиск", "Папка News"):
            assert russian in page, russian
        assert "Saved views" not in page and "Save a search" not in page
        public = http.get(f"/views/{token}").text
        assert "Beta 3" in public and "Подписаться на News" in public
