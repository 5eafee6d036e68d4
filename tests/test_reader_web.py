"""The personal reader's pages over real HTTP (uvicorn on 127.0.0.1): a
reader signs in and lands on their unread items, follows, reads, stars,
marks all read, files feeds in folders; every reader route tried with
another user's ids answers 404; Russian pages."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator

import httpx
import pytest
from httpserver import LocalServer
from httpserver import Reply
from test_reader import RSS
from test_reader import feed_xml
from test_web import PASSWORD
from test_web import client
from test_web import form_token
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.storage import _reader
from lenta.web import create_app
from lenta.web import reader as reader_web


@pytest.fixture
def site(lenta: Lenta, settings: Settings) -> Iterator[tuple[AppServer, LocalServer]]:
    lenta.add_user("admin", PASSWORD, is_admin=True)
    lenta.add_user("ann", PASSWORD)
    lenta.add_user("bob", PASSWORD)
    routes = {
        "/alpha.xml": Reply(body=feed_xml("Alpha", range(1, 6)), headers=RSS),
        "/beta.xml": Reply(body=feed_xml("Beta", range(1, 4)), headers=RSS),
    }
    with LocalServer(routes) as feeds, AppServer(create_app(settings, lenta)) as web:
        yield web, feeds


@contextlib.contextmanager
def signed_in(web: AppServer, name: str, language: str = "en") -> Iterator[tuple[httpx.Client, str]]:
    """A client signed in as ``name`` (no destination asked for) and where the sign-in led."""
    with client(web, language) as http:
        token = form_token(http.get("/user/login").text)
        response = http.post("/user/login", data={"csrf_token": token, "name": name, "pass": PASSWORD})
        assert response.status_code == 303, response.text
        yield http, response.headers["location"]


def token_of(http: httpx.Client, path: str = "/reader") -> str:
    return form_token(http.get(path).text)


def test_a_reader_signs_in_follows_reads_and_stars(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    with signed_in(web, "ann") as (http, landing):
        assert landing == "/reader"  # a reader lands on their items, not on a 403
        assert "You follow no feeds yet." in http.get("/reader").text
        token = token_of(http, "/reader/subscriptions")
        followed = http.post("/reader/subscriptions", data={"csrf_token": token, "url": feeds.url("/alpha.xml")})
        assert followed.status_code == 303 and followed.headers["location"].startswith("/reader/feeds/")
        page = http.get("/reader").text
        assert page.count("data-item=") == 5 and "Alpha 5" in page
        assert re.search(r'Alpha</a> <span class="unread-count">5</span>', page)
        item_id = int(re.findall(r'data-item="(\d+)"', page)[0])
        # Opening an item marks it read; the navigation counts it.
        opened = http.get(f"/reader/items/{item_id}")
        assert opened.status_code == 200 and "Body 5" in opened.text
        assert re.search(r'Alpha</a> <span class="unread-count">4</span>', opened.text)
        assert 'rel="next"' in opened.text  # the next item in the view
        starred = http.post(f"/reader/items/{item_id}/mark", data={"csrf_token": token, "action": "star", "back": "/reader/all"})
        assert starred.status_code == 303 and starred.headers["location"] == "/reader/all"
        assert "Alpha 5" in http.get("/reader/starred").text
        # The script's way: no redirect.
        quiet = http.post(
            f"/reader/items/{item_id}/mark", data={"csrf_token": token, "action": "unread"}, headers={"X-Requested-With": "fetch"}
        )
        assert quiet.status_code == 204
        assert http.get("/reader").text.count("data-item=") == 5
        # Off-site "back" is ignored.
        away = http.post(f"/reader/items/{item_id}/mark", data={"csrf_token": token, "action": "read", "back": "//evil.example/"})
        assert away.headers["location"] == "/reader"


def test_mark_all_read_keeps_items_that_arrived_after_the_page(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    with signed_in(web, "ann") as (http, _):
        token = token_of(http)
        http.post("/reader/subscriptions", data={"csrf_token": token, "url": feeds.url("/alpha.xml")})
        page = http.get("/reader").text
        through = re.search(r'name="through" value="(\d+)"', page)
        assert through is not None
        feeds.routes["/alpha.xml"] = Reply(body=feed_xml("Alpha", range(1, 7)), headers=RSS)
        asyncio.run(lenta.refresh(all_feeds=True))
        done = http.post("/reader/mark-all-read", data={"csrf_token": token, "through": through.group(1), "back": "/reader"})
        assert done.status_code == 303
        after = http.get("/reader").text
        assert after.count("data-item=") == 1 and "Alpha 6" in after


def test_folders_and_subscriptions_are_managed_by_forms(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    with signed_in(web, "ann") as (http, _):
        token = token_of(http, "/reader/subscriptions")
        assert http.post("/reader/folders", data={"csrf_token": token, "name": "News"}).status_code == 303
        news = int(re.findall(r'href="/reader/folders/(\d+)"', http.get("/reader").text)[0])
        http.post("/reader/folders", data={"csrf_token": token, "name": "Tech", "parent_id": str(news)})
        http.post("/reader/subscriptions", data={"csrf_token": token, "url": feeds.url("/beta.xml"), "folder_id": str(news)})
        folder_page = http.get(f"/reader/folders/{news}").text
        assert folder_page.count("data-item=") == 3
        subscription = int(re.findall(r'href="/reader/feeds/(\d+)"', folder_page)[0])
        renamed = http.post(f"/reader/subscriptions/{subscription}", data={"csrf_token": token, "title": "My Beta"})
        assert renamed.status_code == 303
        assert "My Beta" in http.get("/reader").text
        assert http.get(f"/reader/folders/{news}").text.count("data-item=") == 0  # filed in no folder now
        gone = http.post(f"/reader/subscriptions/{subscription}/delete", data={"csrf_token": token})
        assert gone.status_code == 303 and f'href="/reader/feeds/{subscription}"' not in http.get("/reader").text


def test_every_reader_route_answers_404_with_another_users_ids(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    with signed_in(web, "ann") as (ann, _), signed_in(web, "bob") as (bob, _):
        token = token_of(ann, "/reader/subscriptions")
        ann.post("/reader/subscriptions", data={"csrf_token": token, "url": feeds.url("/alpha.xml")})
        ann.post("/reader/folders", data={"csrf_token": token, "name": "Private"})
        page = ann.get("/reader").text
        subscription = re.findall(r'href="/reader/feeds/(\d+)"', page)[0]
        folder = re.findall(r'href="/reader/folders/(\d+)"', page)[0]
        item = re.findall(r'data-item="(\d+)"', page)[0]
        ann.post(f"/reader/items/{item}/mark", data={"csrf_token": token, "action": "star"})

        bob_token = token_of(bob)
        reads = [f"/reader/feeds/{subscription}", f"/reader/folders/{folder}", f"/reader/items/{item}"]
        for path in reads:
            assert bob.get(path).status_code == 404, path
        writes = [
            (f"/reader/items/{item}/mark", {"action": "read"}),
            (f"/reader/items/{item}/mark", {"action": "star"}),
            ("/reader/mark-all-read", {"through": "999999", "subscription_id": subscription}),
            ("/reader/mark-all-read", {"through": "999999", "folder_id": folder}),
            (f"/reader/subscriptions/{subscription}", {"title": "mine"}),
            (f"/reader/subscriptions/{subscription}/delete", {}),
            ("/reader/folders", {"name": "Inside", "parent_id": folder}),
            (f"/reader/folders/{folder}/edit", {"name": "Renamed"}),
            (f"/reader/folders/{folder}/delete", {}),
        ]
        for path, data in writes:
            assert bob.post(path, data={"csrf_token": bob_token, **data}).status_code == 404, path
        # Bob's own pages show nothing of Ann's, not even counts.
        for path in ("/reader", "/reader/all", "/reader/starred", "/reader/subscriptions"):
            text = bob.get(path).text
            assert "Alpha" not in text and "Private" not in text, path
        ann_page = ann.get("/reader").text
        assert ann_page.count("data-item=") == 5 and "Private" in ann_page
        assert "Alpha 5" in ann.get("/reader/starred").text


def test_reader_pages_need_a_signed_in_user_and_the_csrf_token(site: tuple[AppServer, LocalServer]) -> None:
    web, _ = site
    with client(web) as anonymous:
        for path in ("/reader", "/reader/all", "/reader/starred", "/reader/subscriptions", "/reader/items/1"):
            response = anonymous.get(path)
            assert response.status_code == 303 and response.headers["location"].startswith("/user/login"), path
    with signed_in(web, "ann") as (http, _):
        forged = http.post("/reader/folders", data={"csrf_token": "forged", "name": "x"})
        assert forged.status_code == 403
        assert "reader-folders" not in http.get("/reader").text
        bad_cursor = http.get("/reader/all?after=not-a-cursor")
        assert bad_cursor.status_code == 400
        assert http.get("/reader/all?after=99999999999999999999-1").status_code == 400


def test_the_reader_speaks_russian(site: tuple[AppServer, LocalServer]) -> None:
    web, feeds = site
    with signed_in(web, "ann", language="ru") as (http, _):
        token = token_of(http, "/reader/subscriptions")
        http.post("/reader/subscriptions", data={"csrf_token": token, "url": feeds.url("/alpha.xml")})
        page = http.get("/reader").text
        for russian in ("Непрочитанное", "Все записи", "Избранное", "Подписки", "Отметить всё как прочитанное"):
            assert russian in page, russian
        assert "Mark all as read" not in page and "Unread" not in page


def test_search_from_the_reader(site: tuple[AppServer, LocalServer]) -> None:
    web, feeds = site
    with signed_in(web, "ann", language="ru") as (http, _):
        token = token_of(http, "/reader/subscriptions")
        http.post("/reader/subscriptions", data={"csrf_token": token, "url": feeds.url("/alpha.xml")})
        http.post("/reader/subscriptions", data={"csrf_token": token, "url": feeds.url("/beta.xml")})
        page = http.get("/reader/search", params={"q": "beta", "view": "all"})
        assert page.status_code == 200 and page.text.count("data-item=") == 3
        assert "Поиск" in page.text
        beta = re.search(r'href="/reader/feeds/(\d+)">Beta<', page.text)
        assert beta is not None
        assert http.get("/reader/search", params={"q": "body"}).text.count("data-item=") == 8
        narrowed = http.get("/reader/search", params={"q": "body", "feed": beta.group(1)})
        assert narrowed.text.count("data-item=") == 3  # one feed's items only
        assert http.get("/reader/search", params={"q": "nothing-here"}).text.count("data-item=") == 0
        assert http.get("/reader/search", params={"q": "x" * 600}).status_code == 400
        assert http.get("/reader/search", params={"q": "body", "since": "yesterday"}).status_code == 400
        assert http.get("/reader/search", params={"q": "body", "feed": "999999"}).status_code == 404
        assert http.get("/reader/search", params={"q": "body", "tag": "999999"}).status_code == 404


def test_tags_and_rules_from_the_reader(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    with signed_in(web, "ann") as (http, _), signed_in(web, "bob") as (bob, _):
        token = token_of(http, "/reader/subscriptions")
        http.post("/reader/subscriptions", data={"csrf_token": token, "url": feeds.url("/alpha.xml")})
        item = re.findall(r'data-item="(\d+)"', http.get("/reader").text)[0]
        tagged = http.post(f"/reader/items/{item}/tags", data={"csrf_token": token, "name": "later"})
        assert tagged.status_code == 303
        page = http.get("/reader").text
        tag = re.search(r'href="/reader/tags/(\d+)">later<', page)
        assert tag is not None
        assert http.get(f"/reader/tags/{tag.group(1)}").text.count("data-item=") == 1
        assert bob.get(f"/reader/tags/{tag.group(1)}").status_code == 404
        http.post(f"/reader/items/{item}/tags", data={"csrf_token": token, "remove": tag.group(1)})
        assert http.get(f"/reader/tags/{tag.group(1)}").text.count("data-item=") == 0

        slow = http.post(
            "/reader/rules",
            data={"csrf_token": token, "name": "bad", "field": "title", "match": "regex", "pattern": "(a+)+$", "action": "read"},
        )
        assert slow.status_code == 400 and "takes too long" in slow.text
        added = http.post(
            "/reader/rules",
            data={
                "csrf_token": token,
                "name": "Fours",
                "field": "title",
                "match": "regex",
                "pattern": r"Alpha [45]$",
                "action": "read",
            },
        )
        assert added.status_code == 303
        rule_page = http.get(added.headers["location"]).text
        assert rule_page.count('class="changes"') == 2 and "Alpha 4" in rule_page and "Alpha 5" in rule_page
        assert bob.get(added.headers["location"]).status_code == 404
        ran = http.post(added.headers["location"] + "/run", data={"csrf_token": token})
        assert ran.status_code == 303
        assert re.search(r'Alpha</a> <span class="unread-count">3</span>', http.get("/reader").text)
        assert http.get(added.headers["location"]).text.count('class="changes"') == 0


def test_next_and_previous_walk_the_list_the_item_was_opened_from(site: tuple[AppServer, LocalServer]) -> None:
    web, feeds = site
    with signed_in(web, "ann") as (http, _):
        token = token_of(http, "/reader/subscriptions")
        http.post("/reader/subscriptions", data={"csrf_token": token, "url": feeds.url("/alpha.xml")})
        http.post("/reader/subscriptions", data={"csrf_token": token, "url": feeds.url("/beta.xml")})
        beta = re.search(r'href="/reader/feeds/(\d+)">Beta<', http.get("/reader").text)
        assert beta is not None
        page = http.get(f"/reader/feeds/{beta.group(1)}", params={"view": "all"}).text
        first = re.search(r'href="(/reader/items/\d+\?[^"]+)" data-action="o"', page)
        assert first is not None and f"feed={beta.group(1)}" in first.group(1)
        seen: list[str] = []
        link: str | None = first.group(1).replace("&amp;", "&")
        while link is not None and len(seen) < 10:
            opened = http.get(link).text
            seen.append(re.search(r'<h1 class="title" id="page-title">([^<]+)</h1>', opened).group(1))  # type: ignore[union-attr]
            following = re.search(r'<a href="([^"]+)" rel="next"', opened)
            link = following.group(1).replace("&amp;", "&") if following else None
        assert seen == ["Beta 3", "Beta 2", "Beta 1"]  # the feed's items only, newest first, then no next
        assert "Keyboard shortcuts" in opened


def test_the_readers_own_settings_shape_the_lists(site: tuple[AppServer, LocalServer]) -> None:
    web, feeds = site
    feeds.routes["/many.xml"] = Reply(body=feed_xml("Many", range(1, 26)), headers=RSS)
    with signed_in(web, "ann") as (http, _):
        token = token_of(http, "/reader/subscriptions")
        http.post("/reader/subscriptions", data={"csrf_token": token, "url": feeds.url("/many.xml")})
        default = http.get("/reader").text
        assert default.count("data-item=") == 25 and "Body 25" not in default and "data-read-on-scroll" not in default
        saved = http.post(
            "/user/settings",
            data={
                "csrf_token": token,
                "language": "",
                "time_zone": "",
                "theme": "system",
                "per_page": "10",
                "full_text": "yes",
                "read_on_scroll": "yes",
            },
        )
        assert saved.status_code == 303, saved.text
        page = http.get("/reader").text
        assert page.count("data-item=") == 10 and "Body 25" in page  # ten a page, whole items
        assert 'data-read-on-scroll="1"' in page
        more = re.search(r'href="([^"]+)" class="reader-next"', page)
        assert more is not None
        assert http.get(more.group(1).replace("&amp;", "&")).text.count("data-item=") == 10


def test_a_search_with_more_hits_than_it_ranks_says_so(
    site: tuple[AppServer, LocalServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search ranks its latest hits only (SEARCH_WINDOW, 5 here): past
    them the last page says that older ones are left out and how to reach
    them, in the reader's language; a search with fewer hits says nothing."""
    monkeypatch.setattr(_reader, "SEARCH_WINDOW", 5)
    web, feeds = site
    notice = "Это последние 5 найденных записей"
    with signed_in(web, "ann", language="ru") as (http, _):
        token = token_of(http, "/reader/subscriptions")
        http.post("/reader/subscriptions", data={"csrf_token": token, "url": feeds.url("/alpha.xml")})
        http.post("/reader/subscriptions", data={"csrf_token": token, "url": feeds.url("/beta.xml")})
        every = http.get("/reader/search", params={"q": "body", "view": "all"}).text  # in all 8 items
        assert every.count("data-item=") == 5
        assert notice in every and "укажите даты" in every
        beta = re.search(r'href="/reader/feeds/(\d+)">Beta<', every)
        assert beta is not None
        fewer = http.get("/reader/search", params={"q": "body", "view": "all", "feed": beta.group(1)}).text
        assert fewer.count("data-item=") == 3
        assert notice not in fewer


def test_the_subscriptions_page_shows_its_share_of_the_feeds_by_title(
    site: tuple[AppServer, LocalServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page of forms for some of the subscriptions (one here), in the
    navigation's order (by title), with links to the pages before and
    after; the navigation beside it lists every feed."""
    monkeypatch.setattr(reader_web, "SUBSCRIPTIONS_PER_PAGE", 1)
    web, feeds = site
    with signed_in(web, "ann") as (http, _):
        token = token_of(http, "/reader/subscriptions")
        for path in ("/beta.xml", "/alpha.xml"):  # followed out of title order
            http.post("/reader/subscriptions", data={"csrf_token": token, "url": feeds.url(path)})
        pages = [http.get("/reader/subscriptions", params={"page": n}).text for n in range(3)]
    forms = [re.findall(r'<p class="reader-subscription-url">([^<]*)</p>', page) for page in pages]
    assert forms == [[feeds.url("/alpha.xml")], [feeds.url("/beta.xml")], []]
    assert 'rel="next"' in pages[0] and 'rel="prev"' not in pages[0]
    assert 'rel="prev"' in pages[1] and 'rel="next"' not in pages[1]
    for page in pages:
        assert re.search(r'href="/reader/feeds/\d+">Alpha<', page) and re.search(r'href="/reader/feeds/\d+">Beta<', page)
