"""The web UI over real HTTP (uvicorn on 127.0.0.1): public pages, sign-in,
admin pages and their forms, CSRF, languages."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest
from httpserver import LocalServer
from httpserver import Reply
from httpserver import free_port
from lxml import etree
from pagetext import parse_page
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.web import create_app

ADMIN = "/admin/config/services/aggregator"
PASSWORD = "correct horse battery"
RSS = {"Content-Type": "application/rss+xml"}


def feed_xml(count: int, title: str = "Source one", prefix: str = "Item") -> bytes:
    # "Other" items fall half an hour after "Item" items of the same number.
    newest = datetime(2025, 6, 1, tzinfo=UTC) - timedelta(minutes=30 if prefix == "Other" else 0)
    items = "".join(
        f"<item><title>{prefix} {n}</title><link>https://example.com/{prefix}/{n}</link><guid>{prefix}-{n}</guid>"
        f"<pubDate>{format_datetime(newest - timedelta(hours=n), usegmt=True)}</pubDate>"
        f"<description>&lt;p&gt;Body of {prefix} {n}&lt;/p&gt;</description><category>tag{n % 2}</category></item>"
        for n in range(1, count + 1)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title><link>https://example.com/</link>'
        f"<description>About {title}</description>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def site(lenta: Lenta, settings: Settings) -> Iterator[tuple[AppServer, LocalServer]]:
    lenta.add_user("admin", PASSWORD, is_admin=True)
    lenta.add_user("reader", PASSWORD)
    routes = {
        "/one.xml": Reply(body=feed_xml(45), headers=RSS),
        "/two.xml": Reply(body=feed_xml(3, "Source two", "Other"), headers=RSS),
    }
    with LocalServer(routes) as feeds, AppServer(create_app(settings, lenta)) as web:
        yield web, feeds


def client(web: AppServer, language: str = "en") -> httpx.Client:
    return httpx.Client(base_url=web.url(""), headers={"Accept-Language": language}, follow_redirects=False)


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the form"
    return match.group(1)


def sign_in(http: httpx.Client, name: str = "admin") -> None:
    token = form_token(http.get("/user/login").text)
    response = http.post("/user/login", data={"csrf_token": token, "name": name, "pass": PASSWORD, "destination": ADMIN})
    assert response.status_code == 303, response.text


def add_feeds(lenta: Lenta, feeds: LocalServer) -> tuple[int, int]:
    one = asyncio.run(lenta.add_feed(feeds.url("/one.xml"))).id
    two = asyncio.run(lenta.add_feed(feeds.url("/two.xml"), category="Tech")).id
    asyncio.run(lenta.refresh(all_feeds=True))
    return one, two


def test_front_page_lists_items_newest_first_with_source_and_pager(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    add_feeds(lenta, feeds)
    with client(web) as http:
        assert http.get("/").headers["location"] == "/aggregator"
        page = parse_page(http.get("/aggregator").text)
        last = parse_page(http.get("/aggregator?page=2").text)
        junk = http.get("/aggregator?page=abc")
    titles = [a.text_content().strip() for a in page.cssselect(".feed-item-title")]
    assert titles[:4] == ["Item 1", "Other 1", "Item 2", "Other 2"]
    assert len(titles) == 20
    source = page.cssselect(".feed-item-meta a.feed-item-source")[0]
    assert source.text_content() == "Source one" and source.get("href") == "/aggregator/sources/1"
    assert page.cssselect(".feed-item-body p")[0].text_content() == "Body of Item 1"
    assert [li.text_content().strip() for li in page.cssselect("ul.pager li")] == ["1", "2", "3", "next ›", "last »"]
    assert [li.text_content().strip() for li in last.cssselect("ul.pager li")] == ["« first", "‹ previous", "1", "2", "3"]
    assert len(last.cssselect("article.feed-item")) == 8
    assert junk.status_code == 200


def test_sources_source_and_categories_pages(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    one, two = add_feeds(lenta, feeds)
    tech = lenta.list_categories()[0]
    with client(web) as http:
        sources = parse_page(http.get("/aggregator/sources").text)
        source = parse_page(http.get(f"/aggregator/sources/{one}").text)
        source_page_2 = parse_page(http.get(f"/aggregator/sources/{one}?page=2").text)
        categories = parse_page(http.get("/aggregator/categories").text)
        category = parse_page(http.get(f"/aggregator/categories/{tech.id}").text)
        missing = http.get("/aggregator/sources/999")
        not_a_number = http.get("/aggregator/categories/abc")
    assert [h.text_content() for h in sources.cssselect(".aggregator-source h2")] == ["Source one", "Source two"]
    assert [li.cssselect("a")[0].text_content() for li in sources.cssselect("#source-1 li")] == ["Item 1", "Item 2", "Item 3"]
    assert source.cssselect("h1")[0].text_content() == "Source one"
    assert "About Source one" in source.cssselect(".feed-description")[0].text_content()
    assert source.cssselect(".feed-updated")[0].text_content().strip() != "Updated: never"
    assert len(source.cssselect("article.feed-item")) == 20
    assert not source.cssselect(".feed-item-source")  # the source page does not repeat its own name
    assert [a.text_content() for a in source_page_2.cssselect(".feed-item-title a")] == [
        "Item 41",
        "Item 42",
        "Item 43",
        "Item 44",
        "Item 45",
    ]
    assert [h.text_content() for h in categories.cssselect(".aggregator-category h2")] == ["Tech"]
    assert [a.text_content() for a in category.cssselect(".feed-item-title a")] == ["Other 1", "Other 2", "Other 3"]
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert not_a_number.status_code == 404


def test_rss_and_opml_out(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    add_feeds(lenta, feeds)
    with client(web) as http:
        rss = http.get("/aggregator/rss")
        opml = http.get("/aggregator/opml")
    assert rss.headers["content-type"].startswith("application/rss+xml")
    channel = etree.fromstring(rss.content).find("channel")
    assert channel is not None
    items = channel.findall("item")
    assert len(items) == 20
    assert items[0].findtext("title") == "Item 1"
    assert items[0].findtext("link") == "https://example.com/Item/1"
    assert "Body of Item 1" in (items[0].findtext("description") or "")
    assert items[0].findtext("source") == "Source one"
    outlines = [o for o in etree.fromstring(opml.content).iter("outline") if o.get("xmlUrl")]
    assert sorted(o.get("xmlUrl") or "" for o in outlines) == [feeds.url("/one.xml"), feeds.url("/two.xml")]


def test_admin_pages_need_an_admin(site: tuple[AppServer, LocalServer]) -> None:
    web, _ = site
    with client(web) as http:
        anonymous = http.get(ADMIN)
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == f"/user/login?destination={ADMIN}"
        sign_in(http, "reader")
        assert http.get(ADMIN).status_code == 403
    with client(web) as http:
        token = form_token(http.get("/user/login").text)
        wrong = http.post("/user/login", data={"csrf_token": token, "name": "admin", "pass": "nope nope nope"})
        assert wrong.status_code == 400 and "unrecognized username or password" in wrong.text
        sign_in(http)
        assert http.get(ADMIN).status_code == 200


def test_forms_without_the_csrf_token_are_refused(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    with client(web) as http:
        no_token_login = http.post("/user/login", data={"name": "admin", "pass": PASSWORD})
        assert no_token_login.status_code == 403
        sign_in(http)
        refused = http.post(f"{ADMIN}/add/feed", data={"url": feeds.url("/one.xml")})
        forged = http.post(f"{ADMIN}/add/feed", data={"url": feeds.url("/one.xml"), "csrf_token": "forged"})
    assert refused.status_code == 403 and forged.status_code == 403
    assert "form has expired" in refused.text
    assert lenta.list_feeds() == []


def test_add_edit_update_remove_and_delete_a_feed(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    with client(web) as http:
        sign_in(http)
        token = form_token(http.get(f"{ADMIN}/add/feed").text)
        added = http.post(
            f"{ADMIN}/add/feed", data={"csrf_token": token, "url": feeds.url("/one.xml"), "title": "", "refresh": "3600"}
        )
        assert added.status_code == 303
        (feed,) = lenta.list_feeds()
        assert feed.refresh == 3600 and feed.item_count == 45  # fetched at once
        overview = http.get(ADMIN).text
        assert "The feed Source one has been added with 45 items." in overview

        updated = http.post(f"{ADMIN}/update/{feed.id}", data={"csrf_token": token})
        assert updated.status_code == 303
        assert lenta.get_feed(feed.id).item_count == 45
        assert "There is no new syndicated content" in http.get(ADMIN).text

        edit = http.get(f"{ADMIN}/edit/feed/{feed.id}")
        assert f'value="{feeds.url("/one.xml")}"' in edit.text
        changed = http.post(
            f"{ADMIN}/edit/feed/{feed.id}",
            data={"csrf_token": token, "url": feeds.url("/one.xml"), "title": "Renamed", "refresh": "0"},
        )
        assert changed.status_code == 303
        assert (lenta.get_feed(feed.id).title, lenta.get_feed(feed.id).refresh) == ("Renamed", 0)

        bad = http.post(f"{ADMIN}/edit/feed/{feed.id}", data={"csrf_token": token, "url": "ftp://x/", "title": ""})
        assert bad.status_code == 400 and "Only http and https URLs can be feeds" in bad.text
        assert lenta.get_feed(feed.id).url == feeds.url("/one.xml")

        confirm = http.get(f"{ADMIN}/remove/{feed.id}")
        assert "Are you sure you want to remove all items" in confirm.text
        assert http.post(f"{ADMIN}/remove/{feed.id}", data={"csrf_token": token}).status_code == 303
        assert lenta.get_feed(feed.id).item_count == 0

        to_delete = http.post(f"{ADMIN}/edit/feed/{feed.id}", data={"csrf_token": token, "op": "delete"})
        assert to_delete.headers["location"] == f"{ADMIN}/edit/feed/{feed.id}/delete"
        assert "Are you sure you want to delete the feed Renamed?" in http.get(to_delete.headers["location"]).text
        assert http.post(to_delete.headers["location"], data={"csrf_token": token}).status_code == 303
    assert lenta.list_feeds() == []


def test_adding_a_duplicate_or_bad_feed_keeps_the_form(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    with client(web) as http:
        sign_in(http)
        token = form_token(http.get(f"{ADMIN}/add/feed").text)
        http.post(f"{ADMIN}/add/feed", data={"csrf_token": token, "url": feeds.url("/one.xml")})
        again = http.post(f"{ADMIN}/add/feed", data={"csrf_token": token, "url": feeds.url("/one.xml"), "title": "Kept title"})
        bad_refresh = http.post(f"{ADMIN}/add/feed", data={"csrf_token": token, "url": feeds.url("/two.xml"), "refresh": "12"})
    assert again.status_code == 400 and "already exists" in again.text and 'value="Kept title"' in again.text
    assert bad_refresh.status_code == 400 and "Refresh must be" in bad_refresh.text
    assert len(lenta.list_feeds()) == 1


def test_admin_table_shows_per_feed_errors(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    dead = f"http://127.0.0.1:{free_port()}/feed"
    asyncio.run(lenta.add_feed(dead))
    asyncio.run(lenta.add_feed(feeds.url("/missing.xml")))
    asyncio.run(lenta.add_feed(feeds.url("/one.xml")))
    asyncio.run(lenta.refresh(all_feeds=True))
    with client(web) as http:
        sign_in(http)
        page = parse_page(http.get(ADMIN + "?sort=health").text)
        russian = parse_page(http.get(ADMIN, headers={"Accept-Language": "ru"}).text)
    rows = page.cssselect("tr.feed-row")
    errors = {
        row.cssselect(".feed-url")[0].text_content(): row.cssselect(".feed-last-error")[0].text_content().strip() for row in rows
    }
    assert errors[dead].startswith("Connection refused: connection refused by 127.0.0.1")
    assert errors[feeds.url("/missing.xml")] == "HTTP client error: HTTP 404 Not Found"
    assert errors[feeds.url("/one.xml")] == "-"
    # Sorted by health, the healthy feed comes last.
    assert rows[2].cssselect(".feed-url")[0].text_content() == feeds.url("/one.xml")
    assert rows[2].cssselect("td")[2].text_content().strip() == "45 items"  # after the row's checkbox and title
    assert "Соединение отклонено" in russian.text_content()
    assert "45 записей" in russian.text_content()


def test_categories_admin(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    with client(web) as http:
        sign_in(http)
        token = form_token(http.get(f"{ADMIN}/add/category").text)
        assert (
            http.post(
                f"{ADMIN}/add/category", data={"csrf_token": token, "title": "Science", "description": "All science"}
            ).status_code
            == 303
        )
        (science,) = lenta.list_categories()
        duplicate = http.post(f"{ADMIN}/add/category", data={"csrf_token": token, "title": "Science"})
        assert duplicate.status_code == 400 and "already exists" in duplicate.text
        empty = http.post(f"{ADMIN}/add/category", data={"csrf_token": token, "title": "  "})
        assert empty.status_code == 400 and "needs a title" in empty.text
        http.post(f"{ADMIN}/add/feed", data={"csrf_token": token, "url": feeds.url("/two.xml"), "categories": str(science.id)})
        assert lenta.list_feeds()[0].category_ids == (science.id,)
        renamed = http.post(f"{ADMIN}/edit/category/{science.id}", data={"csrf_token": token, "title": "Sci"})
        assert renamed.status_code == 303 and lenta.get_category(science.id).title == "Sci"
        assert http.post(f"{ADMIN}/edit/category/{science.id}/delete", data={"csrf_token": token}).status_code == 303
    assert lenta.list_categories() == []
    assert lenta.list_feeds()[0].category_ids == ()


def test_opml_import_by_upload_and_by_url(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    opml = (
        b'<?xml version="1.0"?><opml version="2.0"><body><outline text="Folder">'
        b'<outline type="rss" text="A" xmlUrl="https://a.example/feed"/></outline></body></opml>'
    )
    with LocalServer(
        {"/list.opml": Reply(body=opml.replace(b"a.example", b"b.example"), headers={"Content-Type": "text/x-opml"})}
    ) as remote:
        with client(web) as http:
            sign_in(http)
            token = form_token(http.get(f"{ADMIN}/add/opml").text)
            uploaded = http.post(
                f"{ADMIN}/add/opml", data={"csrf_token": token}, files={"upload": ("list.opml", opml, "text/x-opml")}
            )
            overview = http.get(ADMIN).text
            by_url = http.post(f"{ADMIN}/add/opml", data={"csrf_token": token, "remote": remote.url("/list.opml")})
            not_opml = http.post(
                f"{ADMIN}/add/opml", data={"csrf_token": token}, files={"upload": ("feed.xml", feed_xml(1), "text/xml")}
            )
            nothing = http.post(f"{ADMIN}/add/opml", data={"csrf_token": token})
    assert uploaded.status_code == 303 and by_url.status_code == 303
    assert sorted(f.url for f in lenta.list_feeds()) == ["https://a.example/feed", "https://b.example/feed"]
    assert [c.title for c in lenta.list_categories()] == ["Folder"]
    assert not_opml.status_code == 400 and "not an OPML document" in not_opml.text
    assert nothing.status_code == 400 and "Either upload a file or enter a URL" in nothing.text
    assert "Imported 1 feed." in overview


def test_opml_by_url_goes_through_the_outbound_guard(lenta: Lenta, settings: Settings) -> None:
    guarded = settings.replace(fetch_allow="")
    lenta.settings = guarded
    lenta.add_user("admin", PASSWORD, is_admin=True)
    with AppServer(create_app(guarded, lenta)) as web, LocalServer({}) as target, client(web) as http:
        sign_in(http)
        token = form_token(http.get(f"{ADMIN}/add/opml").text)
        refused = http.post(f"{ADMIN}/add/opml", data={"csrf_token": token, "remote": target.url("/x.opml")})
        assert target.requests == []
    assert refused.status_code == 400 and "LENTA_FETCH_ALLOW" in refused.text


def test_settings_form_validates_and_saves(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, _ = site
    with client(web) as http:
        sign_in(http)
        token = form_token(http.get(f"{ADMIN}/settings").text)
        saved = http.post(
            f"{ADMIN}/settings",
            data={
                "csrf_token": token,
                "allowed_html": "<a> <p> <em>",
                "discard_after": "604800",
                "source_items": "5",
                "site_name": "My news",
            },
        )
        assert saved.status_code == 303
        refused = http.post(
            f"{ADMIN}/settings",
            data={
                "csrf_token": token,
                "allowed_html": "<p> <script>",
                "discard_after": "604800",
                "source_items": "5",
                "site_name": "x",
            },
        )
        odd = http.post(
            f"{ADMIN}/settings",
            data={"csrf_token": token, "allowed_html": "<p>", "discard_after": "17", "source_items": "5", "site_name": "x"},
        )
        front = http.get("/aggregator").text
    site_settings = lenta.site_settings()
    assert (site_settings.allowed_html, site_settings.discard_after, site_settings.source_items) == ("<a> <p> <em>", 604800, 5)
    assert refused.status_code == 400 and "<script> cannot be allowed" in html_unescape(refused.text)
    assert odd.status_code == 400
    assert "<title>Feed aggregator | My news</title>" in front


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_allowed_tags_setting_applies_at_the_next_refresh(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, feeds = site
    lenta.save_site_settings({"allowed_html": "<em>"})
    asyncio.run(lenta.add_feed(feeds.url("/two.xml")))
    asyncio.run(lenta.refresh(all_feeds=True))
    (item, *_) = lenta.items_page(0, 1).items
    assert item.content == "Body of Other 1"


def test_language_negotiation_and_forcing(site: tuple[AppServer, LocalServer], settings: Settings, lenta: Lenta) -> None:
    web, _ = site
    with client(web, "de-DE, ru;q=0.8, en;q=0.5") as http:
        assert "Сборщик RSS-лент" in http.get("/aggregator").text
    with client(web, "fr") as http:
        assert '<h1 class="title" id="page-title">Feed aggregator</h1>' in http.get("/aggregator").text
    with AppServer(create_app(settings.replace(language="ru"), lenta)) as forced, client(forced, "en") as http:
        page = http.get("/aggregator").text
    assert 'lang="ru"' in page and "Сборщик RSS-лент" in page


def test_login_does_not_redirect_off_site(site: tuple[AppServer, LocalServer]) -> None:
    web, _ = site
    with client(web) as http:
        token = form_token(http.get("/user/login?destination=//evil.example/").text)
        response = http.post(
            "/user/login", data={"csrf_token": token, "name": "admin", "pass": PASSWORD, "destination": "https://evil.example/"}
        )
    assert response.headers["location"] == ADMIN


def test_logout(site: tuple[AppServer, LocalServer]) -> None:
    web, _ = site
    with client(web) as http:
        sign_in(http)
        token = form_token(http.get(ADMIN).text)
        assert http.post("/user/logout", data={"csrf_token": token}).status_code == 303
        assert http.get(ADMIN).status_code == 303


def test_feed_links_with_other_schemes_are_not_rendered(site: tuple[AppServer, LocalServer], lenta: Lenta) -> None:
    web, _ = site
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>Click</title><link>javascript:alert(1)</link><guid>1</guid></item></channel></rss>"
    )
    with LocalServer({"/evil.xml": Reply(body=body, headers=RSS)}) as evil:
        asyncio.run(lenta.add_feed(evil.url("/evil.xml")))
        asyncio.run(lenta.refresh(all_feeds=True))
    with client(web) as http:
        page = http.get("/aggregator").text
    assert "javascript:" not in page
    assert ">Click<" in page.replace("\n", "").replace("  ", "")


def test_serve_refreshes_due_feeds_in_the_background(lenta: Lenta, settings: Settings) -> None:
    import time

    with LocalServer({"/feed.xml": Reply(body=feed_xml(3), headers=RSS)}) as feeds:
        asyncio.run(lenta.add_feed(feeds.url("/feed.xml")))
        background = settings.replace(scheduler=True, scheduler_tick=0.1)
        with AppServer(create_app(background, lenta)) as web, client(web) as http:
            deadline = time.monotonic() + 20
            while "Item 1" not in http.get("/aggregator").text and time.monotonic() < deadline:
                time.sleep(0.1)
            page = http.get("/aggregator").text
    assert "Item 3" in page
    assert lenta.list_feeds()[0].item_count == 3
