"""Numbers in URLs out of every range: each id route and ``?page=`` answer
404 or a page, never 500 (nor PostgreSQL's 400 for an integer out of
range), on SQLite and on PostgreSQL. A page past the end is the last page,
as in Drupal 7; junk, signs and other scripts' digits are the first page."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import httpx
import pytest
from conftest import fresh_postgres_schema
from pagetext import parse_page
from test_web import ADMIN
from test_web import PASSWORD
from test_web import client
from test_web import form_token
from test_web import sign_in
from webserver import AppServer

from lenta.config import load_settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.storage import open_storage
from lenta.storage.records import ItemRecord
from lenta.web import create_app
from lenta.web.params import MAX_ID
from lenta.web.params import form_ids
from lenta.web.params import parse_id

BAD_IDS = [
    str(2**31),
    str(2**31 - 1),
    str(2**63),
    str(2**64),
    str(10**20),
    "9" * 400,
    "-1",
    "0",
    "1e5",
    "٣",
    "３",
    "+3",
    "3.0",
    " 3",
    "0x3",
]
ID_ROUTES = [
    ("GET", "/aggregator/sources/{}"),
    ("GET", "/aggregator/categories/{}"),
    ("GET", f"{ADMIN}/edit/feed/{{}}"),
    ("POST", f"{ADMIN}/edit/feed/{{}}"),
    ("GET", f"{ADMIN}/edit/feed/{{}}/delete"),
    ("POST", f"{ADMIN}/edit/feed/{{}}/delete"),
    ("GET", f"{ADMIN}/remove/{{}}"),
    ("POST", f"{ADMIN}/remove/{{}}"),
    ("POST", f"{ADMIN}/update/{{}}"),
    ("GET", f"{ADMIN}/health/{{}}"),
    ("GET", f"{ADMIN}/edit/category/{{}}"),
    ("POST", f"{ADMIN}/edit/category/{{}}"),
    ("GET", f"{ADMIN}/edit/category/{{}}/delete"),
    ("POST", f"{ADMIN}/edit/category/{{}}/delete"),
]
FIRST_PAGE = ["-1", "abc", "", "1e5", "٣", "+1", "1.5", "0x10", " 2"]
LAST_PAGE = [str(3), str(2**31), str(2**63), str(10**20), "9" * 400]


@dataclass
class Site:
    lenta: Lenta
    http: httpx.Client
    token: str
    feed_ids: list[int]
    category_ids: list[int]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Three feeds (the first with 45 items) in three categories; ids 1 to 3,
    so that an id read as 3 ("٣", "+3", "3.0") would find one."""
    database: contextlib.AbstractContextManager[str] = (
        contextlib.nullcontext(str(tmp_path_factory.mktemp("numbers") / "lenta.sqlite"))
        if request.param == "sqlite"
        else fresh_postgres_schema()
    )
    with database as db:
        settings = load_settings({}, db=db, scheduler=False)
        lenta = make_lenta(settings)
        storage = open_storage(db)  # below the facade: 45 items at once, without a feed to serve them
        lenta.add_user("admin", PASSWORD, is_admin=True)
        now = datetime.now(UTC)
        categories = [lenta.add_category(f"Category {n}").id for n in (1, 2, 3)]
        feeds = [
            storage.feeds.add(
                f"https://example.com/{n}.xml", now=now, custom_title=f"Feed {n}", category_ids=[categories[n - 1]]
            ).id
            for n in (1, 2, 3)
        ]
        records = [
            ItemRecord(
                key=f"k{n}",
                hash="h",
                guid=None,
                link=f"https://example.com/{n}",
                title=f"Item {n}",
                author=None,
                published_at=None,
                updated_at=None,
                date=now - timedelta(hours=n),
                content=None,
                summary=None,
            )
            for n in range(1, 46)
        ]
        with storage.db.write() as connection:
            storage.items.insert(connection, feeds[0], records, now)
        storage.close()
        with AppServer(create_app(settings, lenta)) as web, client(web) as http:
            sign_in(http)
            yield Site(lenta, http, form_token(http.get(f"{ADMIN}/add/category").text), feeds, categories)
        lenta.close()


@pytest.mark.parametrize("value", BAD_IDS)
@pytest.mark.parametrize(("method", "route"), ID_ROUTES)
def test_an_id_out_of_range_is_404(site: Site, method: str, route: str, value: str) -> None:
    path = route.format(value)
    if method == "GET":
        response = site.http.get(path)
    else:
        response = site.http.post(
            path, data={"csrf_token": site.token, "title": "Renamed", "url": "https://example.com/renamed.xml"}
        )
    assert response.status_code == 404, (path, response.status_code)
    assert "Page not found" in response.text
    # Nothing was changed on the way.
    assert [f.title for f in site.lenta.list_feeds()] == ["Feed 1", "Feed 2", "Feed 3"]
    assert [c.title for c in site.lenta.list_categories()] == ["Category 1", "Category 2", "Category 3"]
    assert site.lenta.get_feed(site.feed_ids[0]).item_count == 45


def titles(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.status_code
    return [a.text_content().strip() for a in parse_page(response.text).cssselect(".feed-item-title")]


@pytest.mark.parametrize("listing", ["/aggregator", "/aggregator/sources/{feed}", "/aggregator/categories/{category}"])
def test_a_page_out_of_range_is_the_first_or_the_last(site: Site, listing: str) -> None:
    path = listing.format(feed=site.feed_ids[0], category=site.category_ids[0])
    first, last = titles(site.http.get(path)), titles(site.http.get(f"{path}?page=2"))
    assert (len(first), last) == (20, [f"Item {n}" for n in range(41, 46)])
    for value in FIRST_PAGE:
        assert titles(site.http.get(path, params={"page": value})) == first, value
    for value in LAST_PAGE:
        page = site.http.get(path, params={"page": value})
        assert titles(page) == last, value
        # The pager agrees: the last page is the current one.
        assert parse_page(page.text).cssselect("ul.pager li.pager-current")[0].text_content() == "3"


def test_category_ids_out_of_range_in_a_form_are_left_out(site: Site) -> None:
    feed_id, category_id = site.feed_ids[1], site.category_ids[1]
    response = site.http.post(
        f"{ADMIN}/edit/feed/{feed_id}",
        data={
            "csrf_token": site.token,
            "url": "https://example.com/2.xml",
            "title": "Feed 2",
            "categories": [str(category_id), "٣", str(2**31), str(2**63), str(10**20), "-1"],
        },
    )
    assert response.status_code == 303, response.status_code
    assert site.lenta.get_feed(feed_id).category_ids == (category_id,)


def test_the_id_parser() -> None:
    assert [parse_id(v) for v in ("1", "007", str(MAX_ID), str(MAX_ID + 1), "0", "٣", "", None, 3)] == [
        1,
        7,
        MAX_ID,
        None,
        None,
        None,
        None,
        None,
        None,
    ]
    assert form_ids(["1", "x", "2", "٣", str(2**40)]) == [1, 2]
